extension Interpreter {
    /// One node about to run: its input values (nil for omitted optional inputs), typed
    /// attribute access with ONNX defaults, and the model's opset for ops whose meaning changed.
    struct OpContext {
        let node: Node
        let inputs: [Value?]
        let opset: Int

        func has(_ i: Int) -> Bool { i < inputs.count && inputs[i] != nil }

        func value(_ i: Int) throws -> Value {
            guard i < inputs.count, let v = inputs[i] else {
                throw KernelError.shape("input #\(i) is required but missing")
            }
            return v
        }

        func floats(_ i: Int) throws -> NDArray<Float> { try value(i).floats }
        func optionalFloats(_ i: Int) -> NDArray<Float>? { has(i) ? inputs[i]!.floats : nil }

        /// A 1-D (or scalar) integer input as plain Ints (shapes, axes, indices).
        func ints(_ i: Int) throws -> [Int] {
            let v = try value(i).integers
            guard v.rank <= 1 else { throw KernelError.shape("input #\(i) should be 1-D, has shape \(v.shape)") }
            return v.storage.map { Int(truncatingIfNeeded: $0) }
        }

        func optionalInts(_ i: Int) throws -> [Int]? { has(i) ? try ints(i) : nil }

        func int(_ name: String, _ fallback: Int) throws -> Int {
            switch node[attribute: name] {
            case nil: return fallback
            case let .int(v)?: return v
            default: throw KernelError.attribute("\(name) should be an int")
            }
        }

        func bool(_ name: String, _ fallback: Bool = false) throws -> Bool { try int(name, fallback ? 1 : 0) != 0 }

        func float(_ name: String, _ fallback: Float) throws -> Float {
            switch node[attribute: name] {
            case nil: return fallback
            case let .float(v)?: return v
            case let .int(v)?: return Float(v)
            default: throw KernelError.attribute("\(name) should be a float")
            }
        }

        func ints(_ name: String) throws -> [Int]? {
            switch node[attribute: name] {
            case nil: return nil
            case let .ints(v)?: return v
            case let .int(v)?: return [v]
            default: throw KernelError.attribute("\(name) should be a list of ints")
            }
        }

        func string(_ name: String, _ fallback: String) throws -> String {
            switch node[attribute: name] {
            case nil: return fallback
            case let .string(v)?: return v
            default: throw KernelError.attribute("\(name) should be a string")
            }
        }

        func autoPad() throws -> AutoPad {
            let raw = try string("auto_pad", "NOTSET")
            guard let pad = raw.isEmpty ? .notSet : AutoPad(rawValue: raw) else {
                throw KernelError.attribute("auto_pad \"\(raw)\"")
            }
            return pad
        }

        /// A value's positional axis list from input `i` (newer opsets) or attribute `name` (older).
        func axes(input i: Int, attribute name: String) throws -> [Int]? {
            try has(i) ? ints(i) : ints(name)
        }
    }
}
