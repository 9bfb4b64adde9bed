/// An error that knows the response it maps to. Handlers throw these (or return
/// `HTTPResponse.error`); the server maps every error it raises itself through the same path,
/// so all error bodies share one shape: `{"error":{"code":"...","message":"..."}}`.
public protocol HTTPResponseError: Error {
    var status: HTTPStatus { get }
    /// A stable, machine-readable snake_case code.
    var code: String { get }
    /// A human-readable explanation; it is sent to the client, so it must not leak internals.
    var message: String { get }
    /// Extra header fields for the response (for example `Allow` on a 405).
    var headers: HTTPHeaders { get }
}

extension HTTPResponseError {
    public var headers: HTTPHeaders { [:] }
}

/// The concrete error used by the server and available to handlers.
public struct HTTPError: HTTPResponseError, Equatable, CustomStringConvertible {
    public var status: HTTPStatus
    public var code: String
    public var message: String
    public var headers: HTTPHeaders

    public init(_ status: HTTPStatus, code: String, message: String, headers: HTTPHeaders = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public static func badRequest(_ message: String) -> HTTPError {
        HTTPError(.badRequest, code: "bad_request", message: message)
    }
    public static func notFound(_ message: String = "no such resource") -> HTTPError {
        HTTPError(.notFound, code: "not_found", message: message)
    }
    /// 405 must list the methods the target supports (RFC 9110 §15.5.6).
    public static func methodNotAllowed(_ method: HTTPMethod, allowed: [HTTPMethod]) -> HTTPError {
        HTTPError(
            .methodNotAllowed, code: "method_not_allowed",
            message: "method \(method.rawValue) is not allowed here",
            headers: ["Allow": allowed.map(\.rawValue).joined(separator: ", ")])
    }
    public static let requestTimeout = HTTPError(
        .requestTimeout, code: "request_timeout", message: "the request was not received in time")
    public static func contentTooLarge(limit: Int64) -> HTTPError {
        HTTPError(.contentTooLarge, code: "content_too_large", message: "the request body exceeds \(limit) bytes")
    }
    public static let uriTooLong = HTTPError(
        .uriTooLong, code: "uri_too_long", message: "the request line is too long")
    public static func headerFieldsTooLarge(_ message: String) -> HTTPError {
        HTTPError(.requestHeaderFieldsTooLarge, code: "header_fields_too_large", message: message)
    }
    public static func notImplemented(_ message: String) -> HTTPError {
        HTTPError(.notImplemented, code: "not_implemented", message: message)
    }
    public static let versionNotSupported = HTTPError(
        .httpVersionNotSupported, code: "http_version_not_supported", message: "only HTTP/1.x is supported")
    public static func expectationFailed(_ expectation: String) -> HTTPError {
        HTTPError(.expectationFailed, code: "expectation_failed", message: "unsupported expectation \"\(expectation)\"")
    }
    public static let serviceUnavailable = HTTPError(
        .serviceUnavailable, code: "service_unavailable", message: "too many connections; retry later")
    public static let internalError = HTTPError(
        .internalServerError, code: "internal_error", message: "the server failed to handle the request")
    public static func rangeNotSatisfiable(size: Int64) -> HTTPError {
        HTTPError(
            .rangeNotSatisfiable, code: "range_not_satisfiable",
            message: "the requested range is outside the \(size)-byte representation",
            headers: ["Content-Range": "bytes */\(size)"])
    }
    public static let preconditionFailed = HTTPError(
        .preconditionFailed, code: "precondition_failed", message: "If-Match did not match the current representation")
}

/// Why the request body stopped before its end: the connection went away under it.
public struct HTTPConnectionClosedError: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "the connection closed before the request body was complete" }
}

enum JSON {
    /// A JSON string literal (RFC 8259 §7): quotes, backslashes and control characters escaped.
    static func quoted(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }

    static func errorBody(code: String, message: String) -> [UInt8] {
        Array("{\"error\":{\"code\":\(quoted(code)),\"message\":\(quoted(message))}}".utf8)
    }
}
