import CCPUFeatures
import Foundation

/// PruneKit's kernels are compiled for a raised x86-64 level (Package.swift, `kernelCPU`): on
/// a CPU without its features the first vector instruction would kill the process with SIGILL.
/// `pruned` itself is compiled for the baseline, so it can look first and say what is missing.
enum CPUCheck {
    #if KERNELS_X86_64_V4
    static let level = 4
    #elseif KERNELS_X86_64_V3
    static let level = 3
    #else
    static let level = 0
    #endif

    /// The names of the features the kernels need that this CPU or OS lacks.
    static var missingFeatures: [String] {
        let mask = ccpu_missing_features(Int32(level))
        return (0..<Int(CCPU_FEATURE_COUNT)).filter { mask & (1 << UInt64($0)) != 0 }.map { String(cString: ccpu_feature_name(Int32($0))) }
    }

    /// Exits with 69 (EX_UNAVAILABLE) and a message naming the missing features, if any.
    static func requireKernelFeatures() {
        let missing = missingFeatures
        guard !missing.isEmpty else { return }
        FileHandle.standardError.write(Data("""
            error: this CPU lacks \(missing.joined(separator: ", ")), which pruned's kernels are compiled for \
            (x86-64-v\(level)\(level == 4 ? ": AVX-512 F/BW/CD/DQ/VL besides AVX2, FMA, BMI" : "")). \
            Run it on a CPU that has them (Intel Xeon Skylake-SP or later, AMD Zen 4 or later), or build it for \
            this one: set kernelCPU in Package.swift (see README, "CPU requirements").

            """.utf8))
        exit(69)
    }
}
