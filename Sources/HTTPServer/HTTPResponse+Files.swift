extension HTTPResponse {
    /// A GET or HEAD response for a file on disk, with everything a download needs: a strong
    /// SHA-256 `ETag`, `If-None-Match` → 304, `If-Match` → 412, a single `Range` → 206 (or
    /// 416), `If-Range`, and gzip while sending when `Accept-Encoding` allows it and the
    /// content is `compressible`. The file is streamed, never read into memory.
    ///
    /// Throws `HTTPError` 404 when there is no such regular file.
    public static func file(
        at path: String, for request: HTTPRequestHead, contentType: String = "application/octet-stream",
        compressible: Bool = true, headers extra: HTTPHeaders = [:]
    ) async throws -> HTTPResponse {
        let file = try HTTPFile(path: path)
        let tag = try await EntityTag.strong(for: file)
        var headers = extra
        headers["Content-Type"] = contentType
        headers["Accept-Ranges"] = "bytes"
        if compressible { headers["Vary"] = "Accept-Encoding" }

        // The representation this request selects (RFC 9110 §12.5.3); ranges are only
        // served on the identity coding, whose byte positions are known in advance.
        // Below about a kilobyte gzip's 18-byte frame and lost sendfile are not worth it.
        let gzip = compressible && file.size >= 1024 && request.acceptsGzip
            && !(request.method == .get && request.headers.contains("Range"))
        let selectedTag = gzip ? EntityTag.gzipVariant(of: tag) : tag
        headers["ETag"] = selectedTag

        // Preconditions in the order of RFC 9110 §13.2.2.
        if let ifMatch = request.headers["If-Match"], !EntityTag.strongMatch(ifMatch, current: selectedTag) {
            return .error(HTTPError.preconditionFailed)
        }
        if let ifNoneMatch = request.headers["If-None-Match"],
            EntityTag.noneMatchHits(ifNoneMatch, current: [selectedTag])
        {
            if request.method == .get || request.method == .head {
                headers["Content-Type"] = nil
                return HTTPResponse(status: .notModified, headers: headers)
            }
            return .error(HTTPError.preconditionFailed)
        }
        if !gzip {
            let ifRangeHolds = request.headers["If-Range"].map { EntityTag.strongMatch($0, current: tag) } ?? true
            if ifRangeHolds {
                switch request.byteRange(size: file.size) {
                case .full:
                    break
                case .partial(let range):
                    headers["Content-Range"] = "bytes \(range.lowerBound)-\(range.upperBound)/\(file.size)"
                    return HTTPResponse(status: .partialContent, headers: headers, body: .file(file, range: range))
                case .unsatisfiable:
                    var response = HTTPResponse.error(HTTPError.rangeNotSatisfiable(size: file.size))
                    response.headers["ETag"] = tag
                    return response
                }
            }
        }
        var response = HTTPResponse(status: .ok, headers: headers, body: .file(file, range: nil))
        if gzip {
            response.headers["Content-Encoding"] = "gzip"
            response.gzipWhileSending = true
        }
        return response
    }

    /// This response with `Content-Encoding: gzip` when the request accepts it: bytes are
    /// compressed now, whole files and streams while they are sent. A strong `ETag` set by
    /// the handler gets the gzip variant's suffix. Small bodies, ranges and responses that
    /// already carry a content coding are left alone.
    public func gzipped(for request: HTTPRequestHead, minimumBytes: Int = 1024) -> HTTPResponse {
        guard status.allowsContent, !headers.contains("Content-Encoding") else { return self }
        var response = self
        let vary = response.headers.listMembers("Vary")
        if !vary.contains(where: { asciiCaseInsensitiveEquals($0, "Accept-Encoding") || $0 == "*" }) {
            response.headers["Vary"] = (vary.map(String.init) + ["Accept-Encoding"]).joined(separator: ", ")
        }
        guard request.acceptsGzip else { return response }
        switch body {
        case .empty:
            return response
        case .bytes(let bytes):
            guard bytes.count >= minimumBytes else { return response }
            response.body = .bytes(GzipDeflater.gzip(bytes))
        case .file(let file, let range):
            guard range == nil, file.size >= Int64(minimumBytes) else { return response }
            response.gzipWhileSending = true
        case .stream:
            response.gzipWhileSending = true
        }
        response.headers["Content-Encoding"] = "gzip"
        if let tag = response.headers["ETag"] { response.headers["ETag"] = EntityTag.gzipVariant(of: tag) }
        return response
    }
}
