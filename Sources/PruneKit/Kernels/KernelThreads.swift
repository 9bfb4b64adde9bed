import Foundation

/// How many threads the kernels (GEMM, conv) use: `PRUNED_THREADS` when set to a positive
/// integer, else every active core. The variable caps the kernels in a container whose CPU
/// quota is below the host's core count (which is what the core count reports), and lets a
/// benchmark time one thread.
public enum KernelThreads {
    public static let count: Int = {
        if let text = ProcessInfo.processInfo.environment["PRUNED_THREADS"], let n = Int(text), n >= 1 {
            return n
        }
        return ProcessInfo.processInfo.activeProcessorCount
    }()
}
