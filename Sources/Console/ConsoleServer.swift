import CaseStorage
import Foundation
import HTTPTypes
import Hummingbird
import JSON
import Logging
import ServiceLifecycle

/// `csworker console`: the supervisors' and operators' web console. Every
/// page and API answer needs a signed-in session; pages are HTML shells that
/// /assets/console.js fills from the JSON API under the same session.
public struct ConsoleServer: Service {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Mark cookies Secure and send HSTS even without `X-Forwarded-Proto: https` (TLS terminated in front of the console).
        public var secureCookies: Bool
        /// Take the client's address for sign-in limits from the last `X-Forwarded-For` entry
        /// (the one the proxy in front appended); otherwise every client behind it shares its address.
        public var trustForwardedFor: Bool

        public init(host: String = "0.0.0.0", port: Int = 8090, secureCookies: Bool = false, trustForwardedFor: Bool = false) {
            self.host = host
            self.port = port
            self.secureCookies = secureCookies
            self.trustForwardedFor = trustForwardedFor
        }
    }

    static let sessionCookie = "csconsole_session"
    static let loginCookie = "csconsole_login"
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    let configuration: Configuration
    let data: ConsoleData
    let users: ConsoleUserFile
    let sessions: ConsoleSessions
    let throttle: LoginThrottle
    let gate = SignInGate()
    /// Password checks started (tests: parallel guesses must not all reach one).
    let passwordChecks = Tally()
    let logger: Logger
    let onListening: @Sendable (Int) -> Void

    public init(
        configuration: Configuration, data: ConsoleData, users: ConsoleUserFile, sessions: ConsoleSessions = ConsoleSessions(),
        throttle: LoginThrottle = LoginThrottle(), logger: Logger, onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.data = data
        self.users = users
        self.sessions = sessions
        self.throttle = throttle
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let app = Application(
            router: router(),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "csworker-console"),
            onServerRunning: { [onListening] channel in onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        try await app.run()
    }

    // MARK: routes

    func router() -> Router<ConsoleRequestContext> {
        let router = Router(context: ConsoleRequestContext.self)
        router.add(middleware: SecurityHeaders(secureCookies: configuration.secureCookies))
        router.get("/assets/console.css") { _, _ in Self.asset(ConsoleAssets.css, type: "text/css; charset=utf-8") }
        router.get("/assets/console.js") { _, _ in Self.asset(ConsoleAssets.js, type: "text/javascript; charset=utf-8") }
        router.get("/login") { request, _ in self.loginPage(request) }
        // For checks that use HEAD: the sign-in page is the one answer without a session.
        router.head("/login") { _, _ in Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"]) }
        router.post("/login") { request, context in try await self.signIn(request, client: self.clientAddress(request, context)) }
        router.post("/logout") { request, _ in try await self.signOut(request) }
        router.get("/") { request, _ in self.page(request) { _ in Self.redirect("/timeliness") } }

        let pages: [(path: RouterPath, name: String, title: String, api: @Sendable (Request, ConsoleRequestContext) -> String)] = [
            ("/timeliness", "timeliness", "Timeliness", { _, _ in "/api/timeliness" }),
            ("/timeliness/:id", "case-list", "Timeliness", { request, context in
                "/api/timeliness/\(Self.pathSafe(context.parameters.get("id") ?? ""))" + Self.query(request, ["dueSoon"])
            }),
            ("/caseload", "caseload", "Caseload", { _, _ in "/api/caseload" }),
            ("/caseload/cases", "case-list", "Caseload", { request, _ in "/api/caseload/cases" + Self.query(request, ["stage", "program", "referral", "process"]) }),
            ("/cases/:caseId", "case", "Case", { _, context in "/api/cases/\(Self.pathSafe(context.parameters.get("caseId") ?? ""))" }),
            ("/operations", "operations", "Operations", { _, _ in "/api/operations" }),
            ("/group", "group", "Group", { _, _ in "/api/group" }),
            ("/deadletters", "deadletters", "Dead letters", { _, _ in "/api/deadletters" }),
        ]
        for page in pages {
            router.get(page.path) { request, context in
                self.page(request) { session in
                    Self.html(.ok, ConsoleAssets.shell(
                        page: page.name, title: page.title, api: page.api(request, context), session: session))
                }
            }
        }
        router.get("/cases") { request, _ in
            self.page(request) { _ in
                let id = request.uri.queryParameters["caseId"].map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
                return Self.redirect(Self.validCaseId(id) ? "/cases/\(id)" : "/caseload")
            }
        }

        router.get("/api/timeliness") { request, _ in try await self.api(request) { _ in try await self.data.timeliness() } }
        router.get("/api/timeliness/:id") { request, context in
            try await self.api(request) { _ in
                let dueSoon = request.uri.queryParameters["dueSoon"] == "1"
                return try await self.data.timeframeItems(context.parameters.get("id") ?? "", dueSoon: dueSoon)
            }
        }
        router.get("/api/caseload") { request, _ in try await self.api(request) { _ in try await self.data.caseload() } }
        router.get("/api/caseload/cases") { request, _ in
            try await self.api(request) { _ in
                let query = request.uri.queryParameters
                func value(_ name: String) -> String? { query[name[...]].map(String.init).flatMap { $0.isEmpty ? nil : $0 } }
                return try await self.data.cases(stage: value("stage"), program: value("program"), referral: value("referral"), process: value("process"))
            }
        }
        router.get("/api/cases/:caseId") { request, context in
            guard self.currentSession(request) != nil else { return Self.unauthorized() }
            let caseId = context.parameters.get("caseId") ?? ""
            guard Self.validCaseId(caseId) else { return Self.json(.notFound, .object(["error": .string("no such case")])) }
            do {
                guard let view = try await self.data.caseView(caseId) else {
                    return Self.json(.notFound, .object(["error": .string("no such case")]))
                }
                return Response(
                    status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: view)))
            } catch {
                return self.unavailable(error)
            }
        }
        router.get("/api/operations") { request, _ in try await self.api(request) { _ in try await self.data.operations() } }
        router.get("/api/group") { request, _ in try await self.api(request) { _ in try await self.data.group() } }
        router.get("/api/deadletters") { request, _ in
            try await self.api(request) { session in try await self.data.deadLetters(canReplay: session.user.role == .operator) }
        }
        router.post("/api/deadletters/replay") { request, _ in try await self.replay(request) }
        return router
    }

    // MARK: sign-in

    func loginPage(_ request: Request, status: HTTPResponse.Status = .ok, message: String? = nil) -> Response {
        if status == .ok, currentSession(request) != nil { return Self.redirect("/timeliness") }
        let token = ConsoleSessions.token()
        var response = Self.html(status, ConsoleAssets.login(csrf: token, message: message))
        response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.loginCookie, token, request, maxAge: 3600)))
        return response
    }

    func signIn(_ request: Request, client: String) async throws -> Response {
        let form = try await Self.form(request)
        let name = form["name"] ?? ""
        let password = form["password"] ?? ""
        guard let token = request.cookies[Self.loginCookie]?.value, let sent = form["csrf"],
            PasswordHash.constantTimeEqual(Array(token.utf8), Array(sent.utf8))
        else {
            return loginPage(request, status: .forbidden, message: "The sign-in form expired; please try again.")
        }
        // No user has a longer name: refused without a password check or a record.
        guard name.count <= ConsoleUserFile.longestName else {
            return loginPage(request, status: .unauthorized, message: "Wrong name or password.")
        }
        // Counted before the check starts, so parallel guesses cannot all pass.
        let ticket: LoginThrottle.Ticket
        switch throttle.admit(name: name, client: client) {
        case .wait(let wait):
            let seconds = max(1, Int((wait + .milliseconds(999)).components.seconds))
            let when = seconds < 120 ? "\(seconds) seconds" : "\(seconds / 60 + 1) minutes"
            var response = loginPage(request, status: .tooManyRequests, message: "Too many sign-in attempts; try again in \(when).")
            response.headers[.retryAfter] = "\(seconds)"
            return response
        case .check(let admitted):
            ticket = admitted
        }
        guard await gate.enter() else {
            throttle.abandoned(ticket)
            logger.warning("console sign-in refused: too many password checks waiting")
            var response = loginPage(request, status: .serviceUnavailable, message: "Sign-in is busy; please try again in a moment.")
            response.headers[.retryAfter] = "2"
            return response
        }
        passwordChecks.add()
        let users = self.users
        let checked: Result<ConsoleUserFile.Verified?, any Error>
        do {
            checked = .success(try await blocking { try users.verify(name: name, password: password) })
        } catch {
            checked = .failure(error)
        }
        await gate.leave()
        let verified: ConsoleUserFile.Verified?
        switch checked {
        case .success(let found):
            verified = found
        case .failure(let error):
            // Not the user's fault: not counted against the name.
            throttle.abandoned(ticket)
            logger.error("console sign-in impossible: the users file cannot be used", metadata: ["error": "\(error)"])
            return loginPage(request, status: .serviceUnavailable, message: "Sign-in is unavailable; the operators have been told.")
        }
        guard let verified else {
            throttle.failed(ticket)
            logger.notice("console sign-in refused", metadata: ["user": "\(ConsoleAssets.printable(name))", "client": "\(client)"])
            return loginPage(request, status: .unauthorized, message: "Wrong name or password.")
        }
        throttle.succeeded(ticket)
        let user = verified.user
        let session = sessions.start(user, credential: verified.credential)
        logger.info("console sign-in", metadata: ["user": "\(user.name)", "role": "\(user.role.rawValue)"])
        var response = Self.redirect("/timeliness")
        response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.sessionCookie, session.id, request, maxAge: nil)))
        response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.loginCookie, "", request, maxAge: 0)))
        return response
    }

    /// Who is signing in, for the sign-in limits: the peer's address, or the
    /// proxy's report of it when configured to trust one.
    func clientAddress(_ request: Request, _ context: ConsoleRequestContext) -> String {
        if configuration.trustForwardedFor, let forwarded = request.headers[HTTPField.Name("X-Forwarded-For")!],
            let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty
        {
            // Bounded, and printable: it is logged and kept as a key.
            return TerminalText.printable(String(last.prefix(64)))
        }
        return context.peerAddress ?? "unknown"
    }

    func signOut(_ request: Request) async throws -> Response {
        let form = try await Self.form(request)
        guard let session = currentSession(request) else { return Self.redirect("/login") }
        guard let sent = form["csrf"], PasswordHash.constantTimeEqual(Array(sent.utf8), Array(session.csrfToken.utf8)) else {
            return Self.json(.forbidden, .object(["error": .string("missing or wrong CSRF token")]))
        }
        sessions.end(session.id)
        var response = Self.redirect("/login")
        response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.sessionCookie, "", request, maxAge: 0)))
        return response
    }

    func cookie(_ name: String, _ value: String, _ request: Request, maxAge: Int?) -> String {
        let secure = Self.overTLS(request, secureCookies: configuration.secureCookies)
        return "\(name)=\(value); Path=/; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "") + (maxAge.map { "; Max-Age=\($0)" } ?? "")
    }

    /// Whether the browser reached the console over TLS (terminated in front of it).
    static func overTLS(_ request: Request, secureCookies: Bool) -> Bool {
        secureCookies || request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
    }

    // MARK: session gates

    /// The request's live session. A user removed from the users file, given
    /// another role or a new password loses it: at the next request once the
    /// file has changed (`console add-user` in another process rewrites it),
    /// and in any case within a minute.
    func currentSession(_ request: Request) -> ConsoleSessions.Session? {
        guard let session = sessions.session(request.cookies[Self.sessionCookie]?.value) else { return nil }
        let stamp = users.stamp()
        guard sessions.needsVerifying(session, stamp: stamp) else { return session }
        guard users.stillValid(session.user, credential: session.credential) else {
            sessions.end(session.id)
            logger.notice("console session ended: the user was removed or changed", metadata: ["user": "\(session.user.name)"])
            return nil
        }
        sessions.verified(session.id, stamp: stamp)
        return session
    }

    /// A page: the signed-in user's, or a redirect to sign in.
    func page(_ request: Request, _ body: (ConsoleSessions.Session) -> Response) -> Response {
        guard let session = currentSession(request) else { return Self.redirect("/login") }
        return body(session)
    }

    /// An API answer: 401 without a session, 404 for nil, 503 when the database fails.
    func api(_ request: Request, _ body: (ConsoleSessions.Session) async throws -> JSONValue?) async throws -> Response {
        guard let session = currentSession(request) else { return Self.unauthorized() }
        do {
            guard let value = try await body(session) else { return Self.json(.notFound, .object(["error": .string("not found")])) }
            return Self.json(.ok, value)
        } catch {
            return unavailable(error)
        }
    }

    func replay(_ request: Request) async throws -> Response {
        guard let session = currentSession(request) else { return Self.unauthorized() }
        guard let sent = request.headers[Self.csrfHeader],
            PasswordHash.constantTimeEqual(Array(sent.utf8), Array(session.csrfToken.utf8))
        else { return Self.json(.forbidden, .object(["error": .string("missing or wrong CSRF token")])) }
        guard session.user.role == .operator else {
            return Self.json(.forbidden, .object(["error": .string("replaying dead letters needs the operator role")]))
        }
        var request = request
        let body = try await request.collectBody(upTo: 64 * 1024)
        guard let parsed = try? JSONValue.parse(Array(buffer: body)) else {
            return Self.json(.badRequest, .object(["error": .string("expected a JSON body")]))
        }
        let ids = (parsed["ids"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(UUID.init(uuidString:)) }
        let errorClass = parsed["errorClass"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        guard !ids.isEmpty || errorClass != nil else {
            return Self.json(.badRequest, .object(["error": .string("name dead letters (ids) or a class (errorClass)")]))
        }
        do {
            let report = try await data.replay(ids: ids, errorClass: errorClass, by: session.user)
            logger.notice("console replay", metadata: [
                "user": "\(session.user.name)", "ids": "\(ids.count)", "class": "\(errorClass ?? "-")", "replayed": "\(report["replayed"]?.intValue ?? 0)",
            ])
            return Self.json(.ok, report)
        } catch {
            return unavailable(error)
        }
    }

    func unavailable(_ error: any Error) -> Response {
        logger.warning("console request failed", metadata: ["error": "\(error)"])
        return Self.json(.serviceUnavailable, .object(["error": .string("the database or broker is unavailable; see the console's log")]))
    }

    // MARK: helpers

    static func unauthorized() -> Response {
        json(.unauthorized, .object(["error": .string("sign in first")]))
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.serialized())))
    }

    static func html(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func validCaseId(_ id: String) -> Bool {
        (1...64).contains(id.count) && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    static func pathSafe(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_"))) ?? ""
    }

    static func query(_ request: Request, _ names: [String]) -> String {
        let parts = names.compactMap { name -> String? in
            guard let value = request.uri.queryParameters[name[...]], !value.isEmpty else { return nil }
            return "\(name)=\(pathSafe(String(value)))"
        }
        return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
    }

    /// An `application/x-www-form-urlencoded` body.
    static func form(_ request: Request) async throws -> [String: String] {
        var request = request
        let body = try await request.collectBody(upTo: 16 * 1024)
        var fields: [String: String] = [:]
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String { text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }
}

/// The console's request context: Hummingbird's, plus the peer's IP address.
public struct ConsoleRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// nil when the peer has none (in-process tests, a Unix socket).
    public let peerAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress?.ipAddress
    }
}

/// On every answer: nothing cached (pages carry case data), no framing, no
/// sniffing, scripts and styles only from the console itself; over TLS,
/// browsers are told to come back only over TLS (HSTS, one year).
struct SecurityHeaders: RouterMiddleware {
    typealias Context = ConsoleRequestContext
    let secureCookies: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if ConsoleServer.overTLS(request, secureCookies: secureCookies) {
            response.headers[HTTPField.Name("Strict-Transport-Security")!] = "max-age=31536000"
        }
        response.headers[.cacheControl] = "no-store"
        response.headers[HTTPField.Name("Pragma")!] = "no-cache"
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[.contentSecurityPolicy] =
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        return response
    }
}
