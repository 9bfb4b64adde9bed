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
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    if let e = error as? ModelFile.Failure, e.isMissingFile { return Exit.noInput }
    if case .missingFile? = error as? TrainingDataError { return Exit.noInput }
    if error is CocoaError { return Exit.cannotCreate }
    return Exit.badData
}

extension URL {
    /// A path argument as a file URL, relative to the working directory.
    init(argument path: String) { self = URL(fileURLWithPath: path) }
}
