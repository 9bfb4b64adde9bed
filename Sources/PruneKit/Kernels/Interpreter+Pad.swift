/// Node adapter for Pad: opset < 11 reads `pads` and `value` attributes; 11+ the inputs
/// pads, constant_value (optional) and, from 18, axes (optional).
extension Interpreter {
    static func padParameters(_ c: OpContext) throws -> PadParameters {
        let rank = try c.value(0).shape.count
        let mode = try PadMode(c.node)
        if c.opset < 11 {
            guard let pads = try c.ints("pads") ?? c.ints("paddings") else { throw KernelError.attribute("Pad needs pads") }
            return try PadParameters(mode: mode, pads: pads, axes: nil, rank: rank, value: try c.float("value", 0))
        }
        var value: Float = 0
        if c.has(2) {
            let v = try c.floats(2)
            guard v.count == 1 else { throw KernelError.shape("Pad constant_value has shape \(v.shape), expected a scalar") }
            value = v.storage[0]
        }
        return try PadParameters(mode: mode, pads: try c.ints(1), axes: try c.optionalInts(3), rank: rank, value: value)
    }

    static func padNode(_ c: OpContext) throws -> [Value] {
        [.float(try pad(try c.floats(0), try padParameters(c)))]
    }
}
