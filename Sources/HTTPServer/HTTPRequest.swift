/// What a handler receives: the parsed head and the body, still streaming in.
public struct HTTPRequest: Sendable {
    public var head: HTTPRequestHead
    public let body: HTTPRequestBody

    public init(head: HTTPRequestHead, body: HTTPRequestBody) {
        self.head = head
        self.body = body
    }

    public var method: HTTPMethod { head.method }
    public var path: String { head.path }
    public var headers: HTTPHeaders { head.headers }
    public var requestID: String { head.requestID }
}
