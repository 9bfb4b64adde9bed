/// Why a kernel refused its arguments. Kernels validate shapes and attributes up front and
/// throw instead of trapping, so that a bad model fails its job and not the process.
public enum KernelError: Error, Equatable, CustomStringConvertible {
    /// Shapes that do not fit together (or a shape that is not valid at all).
    case shape(String)
    /// An attribute or parameter value outside what the op defines.
    case attribute(String)
    /// A valid configuration this implementation does not run.
    case unsupported(String)

    public var description: String {
        switch self {
        case let .shape(m): return "shape mismatch: \(m)"
        case let .attribute(m): return "invalid attribute: \(m)"
        case let .unsupported(m): return "unsupported: \(m)"
        }
    }
}
