import ArgumentParser
import Foundation
import PruneKit

/// sysexits(3) codes, so scripts can tell bad input from a broken environment.
enum Exit {
    static let badData = ExitCode(65)
    static let noInput = ExitCode(66)
    static let cannotCreate = ExitCode(73)
}

/// Prints `error: ...` to stderr and maps the failure to its exit code.
func fail(_ error: any Error) -> ExitCode {
    let message = (error as? CocoaError)?.fileMessage ?? "\(error)"
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    if let e = error as? ModelFile.Failure, e.isMissingFile { return Exit.noInput }
    if case .missingFile? = error as? TrainingDataError { return Exit.noInput }
    if error is CocoaError { return Exit.cannotCreate }
    return Exit.badData
}

extension URL {
    /// A path argument as a file URL, relative to the working directory.
    init(argument path: String) { self = URL(fileURLWithPath: path) }
}

extension CocoaError {
    /// `cannot write out/x: Not a directory`: Foundation's own description of a failed file
    /// write is `Error Domain=NSCocoaErrorDomain Code=... UserInfo={...}`.
    var fileMessage: String {
        let path = filePath ?? url?.path ?? "the output"
        if let posix = underlying.map({ $0 as NSError }), posix.domain == NSPOSIXErrorDomain {
            return "cannot write \(path): \(String(cString: strerror(Int32(posix.code))))"
        }
        return "cannot write \(path): \(localizedDescription)"
    }
}
