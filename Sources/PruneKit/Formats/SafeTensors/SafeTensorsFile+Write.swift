import Foundation

extension SafeTensorsFile {
    /// The file's bytes: tensors in `tensors` order, packed without gaps; the header JSON padded
    /// with spaces to a multiple of 8 bytes so that the data starts 8-byte aligned. Throws
    /// `SafeTensorsError` for a duplicate or reserved name, or a tensor whose byte count does
    /// not match its dtype and shape.
    public func serialized() throws -> Data {
        var header: [UInt8] = [UInt8(ascii: "{")]
        var first = true
        func separator() {
            if !first { header.append(UInt8(ascii: ",")) }
            first = false
        }
        if !metadata.isEmpty {
            separator()
            HeaderJSON.appendString("__metadata__", to: &header)
            header.append(contentsOf: Array(":{".utf8))
            for (i, key) in metadata.keys.sorted().enumerated() {
                if i > 0 { header.append(UInt8(ascii: ",")) }
                HeaderJSON.appendString(key, to: &header)
                header.append(UInt8(ascii: ":"))
                HeaderJSON.appendString(metadata[key]!, to: &header)
            }
            header.append(UInt8(ascii: "}"))
        }

        var names = Set<String>()
        var offset = 0
        for entry in tensors {
            let t = entry.tensor
            guard entry.name != "__metadata__" else {
                throw SafeTensorsError.badName(tensor: entry.name, reason: "the name is reserved for the metadata map")
            }
            guard names.insert(entry.name).inserted else {
                throw SafeTensorsError.badName(tensor: entry.name, reason: "the name is used by more than one tensor")
            }
            guard let count = Tensor.elementCount(t.shape), count.multipliedReportingOverflow(by: t.dtype.size) == (t.data.count, false) else {
                throw SafeTensorsError.inconsistentTensor(
                    tensor: entry.name, reason: "dtype \(t.dtype.rawValue) and shape \(t.shape) do not match its \(t.data.count) bytes")
            }
            separator()
            HeaderJSON.appendString(entry.name, to: &header)
            header.append(contentsOf: Array(#":{"dtype":"#.utf8))
            HeaderJSON.appendString(t.dtype.rawValue, to: &header)
            header.append(contentsOf: Array(#","shape":[\#(t.shape.map(String.init).joined(separator: ","))]"#.utf8))
            header.append(contentsOf: Array(#","data_offsets":[\#(offset),\#(offset + t.data.count)]}"#.utf8))
            offset += t.data.count
        }
        header.append(UInt8(ascii: "}"))
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

        var out = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for entry in tensors { out.append(entry.tensor.data) }
        return out
    }

    /// Writes `serialized()` to `url` atomically (a temporary file renamed into place).
    public func write(to url: URL) throws {
        try serialized().write(to: url, options: .atomic)
    }
}
