import CaseContract
import CaseDomain
import CasePipeline
import CaseScenarios
import CaseStorage
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSON
import Logging
import Postgres
import Testing
import TestSupport

@testable import Console

/// The console over HTTP (in process, no port): nobody gets in without
/// signing in, state changes need the CSRF token and the operator role,
/// wrong passwords are throttled, and no answer carries an SSN in clear.
/// Backed by a scratch schema holding a generated caseload with poison.
@Suite(.serialized) struct ConsoleHTTPTests {
    static let operatorPassword = "correct horse battery"
    static let viewerPassword = "viewer password 123"

    /// A migrated scratch schema with `cases` generated cases applied, a users file, and the console's router.
    final class Fixture: @unchecked Sendable {
        let schema: String
        let admin: PostgresConnection
        let url: String
        let users: ConsoleUserFile
        let server: ConsoleServer
        let topics: PipelineTopics
        let directory: URL

        init(
            cases: Int = 40, sessions: ConsoleSessions = ConsoleSessions(),
            configuration: ConsoleServer.Configuration = ConsoleServer.Configuration()
        ) throws {
            let topics = PipelineTopics(prefix: "console-test.")
            self.topics = topics
            schema = "console_" + UUID().uuidString.prefix(8).lowercased()
            admin = try TestDatabase.connect()
            try admin.executeScript("CREATE SCHEMA \(schema)")
            let base = try TestDatabase.url()
            url = base + (base.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
            let connection = try PostgresConnection(connectionString: url, connectTimeout: .seconds(5))
            defer { connection.close() }
            try Migrator.migrate(connection)
            let protector = SSNProtector(key: .random())
            let policy = Policy()
            let processor = BatchProcessor(
                store: CaseStore(connection: connection, protector: protector, calendar: policy.calendar, cachedStates: 2_000),
                protector: protector, topics: topics, policy: policy, logger: Logger(label: "console-test"))
            let events = Array(ScenarioGenerator(.demo(cases: cases, seed: 5, months: 12)))
            let records = events.enumerated().map { offset, event in
                InboundRecord(topic: topics.prefix + event.topic, partition: 0, offset: Int64(offset), key: event.key, value: event.value)
            }
            for start in stride(from: 0, to: records.count, by: 500) {
                _ = try processor.process(Array(records[start..<min(start + 500, records.count)]))
            }
            directory = try TestOutput.makeDirectory("console-http-\(schema)")
            users = ConsoleUserFile(path: directory.appendingPathComponent("users.json").path)
            try users.add(name: "op1", role: .operator, password: ConsoleHTTPTests.operatorPassword)
            try users.add(name: "viewer1", role: .viewer, password: ConsoleHTTPTests.viewerPassword)
            let data = ConsoleData(
                configuration: ConsoleData.Configuration(
                    databaseURL: url, policy: policy, topics: topics, group: "console-test", brokers: nil, kafkaProperties: [:],
                    ssnKey: nil),
                logger: Logger(label: "console-test"))
            server = ConsoleServer(
                configuration: configuration, data: data, users: users, sessions: sessions, logger: Logger(label: "console-test"))
        }

        /// The same console, reading the database as `role` (e.g. one granted the console role's rights).
        func server(asRole role: String) -> ConsoleServer {
            let encoded = role.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let data = ConsoleData(
                configuration: ConsoleData.Configuration(
                    databaseURL: url + "&user=" + encoded, policy: Policy(), topics: topics, group: "console-test", brokers: nil,
                    kafkaProperties: [:], ssnKey: nil),
                logger: Logger(label: "console-test"))
            return ConsoleServer(configuration: ConsoleServer.Configuration(), data: data, users: users, logger: Logger(label: "console-test"))
        }

        func count(_ sql: String) throws -> Int {
            try admin.execute("SELECT set_config('search_path', $1, false)", schema)
            return try admin.query(sql)[0].decode(Int.self, column: 0)
        }

        func drop() {
            try? admin.executeScript("DROP SCHEMA \(schema) CASCADE")
            admin.close()
        }

        func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
            try await test(server, body)
        }

        func test(_ server: ConsoleServer, _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
            let app = Application(router: server.router())
            try await app.test(.router) { client in try await body(client) }
        }
    }

    static func cookies(_ response: TestResponse) -> [String: String] {
        var cookies: [String: String] = [:]
        for field in response.headers where field.name == .setCookie {
            let pair = field.value.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            cookies[String(pair[0])] = pair.count > 1 ? String(pair[1]) : ""
        }
        return cookies
    }

    static func form(_ fields: [String: String]) -> ByteBuffer {
        ByteBuffer(string: fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&"))
    }

    /// Signs in; returns the session cookie header and the CSRF token of the pages.
    static func signIn(_ client: any TestClientProtocol, name: String, password: String) async throws -> (cookie: String, csrf: String) {
        let page = try await client.execute(uri: "/login", method: .get)
        let loginToken = try #require(cookies(page)[ConsoleServer.loginCookie])
        let answer = try await client.execute(
            uri: "/login", method: .post,
            headers: [.cookie: "\(ConsoleServer.loginCookie)=\(loginToken)", .contentType: "application/x-www-form-urlencoded"],
            body: form(["csrf": loginToken, "name": name, "password": password]))
        #expect(answer.status == .seeOther, "sign-in as \(name): \(answer.status)")
        let session = try #require(cookies(answer)[ConsoleServer.sessionCookie])
        let cookie = "\(ConsoleServer.sessionCookie)=\(session)"
        let shell = try await client.execute(uri: "/caseload", method: .get, headers: [.cookie: cookie])
        let html = String(buffer: shell.body)
        let csrf = try #require(html.firstMatch(of: /name="csrf-token" content="([0-9a-f]+)"/)?.1)
        return (cookie, String(csrf))
    }

    static let pages = ["/", "/timeliness", "/timeliness/locate", "/caseload", "/caseload/cases?stage=ENFORCEMENT", "/cases/CS-0000001", "/operations", "/group", "/deadletters"]
    static let apis = ["/api/timeliness", "/api/timeliness/income-withholding", "/api/caseload", "/api/caseload/cases?stage=ENFORCEMENT", "/api/cases/CS-0000001", "/api/operations", "/api/group", "/api/deadletters"]

    @Test func nothingWithoutASession() async throws {
        let fixture = try Fixture(cases: 5)
        defer { fixture.drop() }
        try await fixture.test { client in
            for path in Self.pages {
                let response = try await client.execute(uri: path, method: .get)
                #expect(response.status == .seeOther, "\(path): \(response.status)")
                #expect(response.headers[.location] == "/login", "\(path)")
            }
            for path in Self.apis {
                let response = try await client.execute(uri: path, method: .get)
                #expect(response.status == .unauthorized, "\(path): \(response.status)")
                #expect(!String(buffer: response.body).contains("CS-"), "\(path) leaked case data")
            }
            let replay = try await client.execute(uri: "/api/deadletters/replay", method: .post, body: ByteBuffer(string: #"{"errorClass":"unknown-case"}"#))
            #expect(replay.status == .unauthorized)
            // A made-up session id is no session.
            let forged = try await client.execute(uri: "/api/caseload", method: .get, headers: [.cookie: "\(ConsoleServer.sessionCookie)=\(String(repeating: "ab", count: 32))"])
            #expect(forged.status == .unauthorized)
        }
    }

    @Test func wrongPasswordsAreRefusedThenThrottled() async throws {
        let fixture = try Fixture(cases: 2)
        defer { fixture.drop() }
        try await fixture.test { client in
            func attempt(_ password: String) async throws -> TestResponse {
                let page = try await client.execute(uri: "/login", method: .get)
                let token = try #require(Self.cookies(page)[ConsoleServer.loginCookie])
                return try await client.execute(
                    uri: "/login", method: .post,
                    headers: [.cookie: "\(ConsoleServer.loginCookie)=\(token)", .contentType: "application/x-www-form-urlencoded"],
                    body: Self.form(["csrf": token, "name": "op1", "password": password]))
            }
            for _ in 1...5 {
                let refused = try await attempt("not the password")
                #expect(refused.status == .unauthorized)
                #expect(String(buffer: refused.body).contains("class=\"error\""))
                #expect(Self.cookies(refused)[ConsoleServer.sessionCookie] == nil)
            }
            let throttled = try await attempt(Self.operatorPassword)
            #expect(throttled.status == .tooManyRequests, "the right password after five wrong ones is still refused for a while")
            #expect(throttled.headers[.retryAfter] != nil)
            #expect(Self.cookies(throttled)[ConsoleServer.sessionCookie] == nil)
            // Another user is not locked out by op1's failures.
            _ = try await Self.signIn(client, name: "viewer1", password: Self.viewerPassword)
            // A sign-in form without its token is refused.
            let forged = try await client.execute(
                uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: Self.form(["name": "viewer1", "password": Self.viewerPassword]))
            #expect(forged.status == .forbidden)
        }
    }

    /// A sign-in attempt with a valid form token.
    static func attempt(_ client: any TestClientProtocol, name: String, password: String) async throws -> TestResponse {
        let token = String(repeating: "5a", count: 32)
        return try await client.execute(
            uri: "/login", method: .post,
            headers: [.cookie: "\(ConsoleServer.loginCookie)=\(token)", .contentType: "application/x-www-form-urlencoded"],
            body: form(["csrf": token, "name": name, "password": password]))
    }

    /// Guesses count when they start: 300 at once for one name reach the password check at most 5 times.
    @Test func parallelGuessesForOneNameAreCheckedAtMostFiveTimes() async throws {
        let fixture = try Fixture(cases: 2)
        defer { fixture.drop() }
        try await fixture.test { client in
            let statuses = try await withThrowingTaskGroup(of: (HTTPResponse.Status, Bool).self) { group in
                for index in 0..<300 {
                    group.addTask {
                        let answer = try await Self.attempt(client, name: "op1", password: "wrong guess \(index)")
                        return (answer.status, answer.headers[.retryAfter] != nil)
                    }
                }
                return try await group.reduce(into: [(HTTPResponse.Status, Bool)]()) { $0.append($1) }
            }
            let checked = fixture.server.passwordChecks.value
            #expect((1...5).contains(checked), "\(checked) guesses reached the password check")
            #expect(statuses.filter { $0.0 == .unauthorized }.count == checked)
            let refused = statuses.filter { $0.0 == .tooManyRequests }
            #expect(refused.count == 300 - checked)
            #expect(refused.allSatisfy { $0.1 }, "every refusal says when to come back (Retry-After)")
            // A name no user can have is refused without a check or a record.
            let long = try await Self.attempt(client, name: String(repeating: "x", count: 65), password: "anything at all")
            #expect(long.status == .unauthorized)
            #expect(fixture.server.passwordChecks.value == checked)
            #expect(fixture.server.throttle.sizes.byName == 1)
            // Other users are not locked out by op1's guesses.
            _ = try await Self.signIn(client, name: "viewer1", password: Self.viewerPassword)
        }
    }

    /// A new password (`console add-user` for an existing name, here or in another process) ends the user's sessions at once.
    @Test func aNewPasswordEndsTheUsersSessions() async throws {
        let fixture = try Fixture(cases: 2)
        defer { fixture.drop() }
        try await fixture.test { client in
            let op = try await Self.signIn(client, name: "op1", password: Self.operatorPassword)
            let viewer = try await Self.signIn(client, name: "viewer1", password: Self.viewerPassword)
            #expect(try await client.execute(uri: "/api/timeliness", method: .get, headers: [.cookie: op.cookie]).status == .ok)
            // As an administrator would: `console add-user` in a process of its own, while the console runs.
            let added = try await ChildProcess.run(
                URL(fileURLWithPath: "/bin/sh"),
                ["-c", "printf '%s\\n' 'a brand new password' | \"$0\" console add-user op1 --role operator --password-stdin --users-file \"$1\"",
                 ChildProcess.csworker.path, fixture.users.path])
            #expect(added.status == 0, "\(added.stderr)")
            #expect(try await client.execute(uri: "/api/timeliness", method: .get, headers: [.cookie: op.cookie]).status == .unauthorized,
                    "at once, not at the next regular check a minute later")
            #expect(try await client.execute(uri: "/timeliness", method: .get, headers: [.cookie: op.cookie]).headers[.location] == "/login")
            #expect(try await client.execute(uri: "/api/timeliness", method: .get, headers: [.cookie: viewer.cookie]).status == .ok,
                    "another user's session is untouched")
            let refused = try await Self.attempt(client, name: "op1", password: Self.operatorPassword)
            #expect(refused.status == .unauthorized, "the old password no longer signs in")
            let again = try await Self.signIn(client, name: "op1", password: "a brand new password")
            #expect(try await client.execute(uri: "/api/timeliness", method: .get, headers: [.cookie: again.cookie]).status == .ok)
        }
    }

    /// The console's database role reads every page's data but not the sealed columns, whatever key the console holds.
    @Test func theSealedColumnsAreRefusedToTheConsoleRole() async throws {
        let fixture = try Fixture(cases: 5)
        defer { fixture.drop() }
        let role = "csw_console_" + UUID().uuidString.prefix(8).lowercased()
        try fixture.admin.executeScript("CREATE ROLE \(role) LOGIN")
        defer { _ = try? fixture.admin.executeScript("DROP OWNED BY \(role); DROP ROLE IF EXISTS \(role)") }
        try fixture.admin.execute("SELECT set_config('search_path', $1, false)", fixture.schema)
        #expect(try RuntimeGrants.apply(
            fixture.admin, role: role, tables: RuntimeGrants.consoleTables, sequences: [], hiddenColumns: RuntimeGrants.consoleHiddenColumns)
            == .granted)
        let console = try PostgresConnection(connectionString: fixture.url + "&user=\(role)", connectTimeout: .seconds(5))
        defer { console.close() }
        for statement in [
            "SELECT sealed_ssns FROM cases", "SELECT * FROM cases", "SELECT sealed_event FROM case_history",
            "SELECT sealed_key FROM parked_events", "SELECT sealed_value FROM parked_events", "SELECT ssn_hash FROM parties",
            "SELECT case_id FROM cases WHERE sealed_ssns IS NOT NULL",
        ] {
            let error = #expect(throws: PostgresError.self, "\(statement)") { _ = try console.query(statement) }
            #expect(error?.sqlState == "42501", "\(statement): \(String(describing: error))")
        }
        #expect(try console.query("SELECT count(*) FROM cases")[0].decode(Int.self, column: 0) == 5)
        let sealedRows = try fixture.count("SELECT count(*) FROM cases WHERE sealed_ssns IS NOT NULL")
        #expect(sealedRows > 0, "the sealed column has something to protect")
        // Every page and API answer still works as the console role.
        try await fixture.test(fixture.server(asRole: role)) { client in
            let signedIn = try await Self.signIn(client, name: "op1", password: Self.operatorPassword)
            var caseId = ""
            let list = try JSONValue.parse(Array(buffer: try await client.execute(
                uri: "/api/caseload/cases", method: .get, headers: [.cookie: signedIn.cookie]).body))
            caseId = try #require(list["cases"]?.arrayValue?.first?["caseId"]?.stringValue)
            for path in Self.apis + ["/api/cases/\(caseId)"] + SupervisionReader.timeframeIds.map({ "/api/timeliness/\($0)" }) {
                let answer = try await client.execute(uri: path, method: .get, headers: [.cookie: signedIn.cookie])
                #expect(answer.status == .ok || (answer.status == .notFound && path.contains("CS-0000001")), "\(path): \(answer.status)")
            }
        }
    }

    /// The Group page shows what the workers recorded: who runs, who is gone
    /// or left, their partitions and last commits, and the outbox per topic.
    @Test func theGroupPageShowsTheRecordedMembersAndTheOutbox() async throws {
        let fixture = try Fixture(cases: 10)
        defer { fixture.drop() }
        let connection = try PostgresConnection(connectionString: fixture.url, connectTimeout: .seconds(5))
        defer { connection.close() }
        let started = Date(timeIntervalSince1970: 1_800_000_000)
        let input = fixture.topics.input
        let committedAt = Date(timeIntervalSince1970: 1_800_000_100)
        let running = GroupMember(
            memberId: "running", group: "console-test", host: "worker-a", pid: 101, startedAt: started,
            assigned: [.init(topic: input[0], partition: 0), .init(topic: input[0], partition: 1)], assignedAt: started,
            commits: [.init(topic: input[0], partition: 1, offset: 42, at: committedAt)])
        let crashed = GroupMember(
            memberId: "crashed", group: "console-test", host: "worker-b", pid: 202, startedAt: started,
            assigned: [.init(topic: input[1], partition: 0)], assignedAt: started)
        // It committed partition 0 before the running member took it over.
        let left = GroupMember(
            memberId: "left", group: "console-test", host: "worker-c", pid: 303, startedAt: started,
            commits: [.init(topic: input[0], partition: 0, offset: 17, at: started)], leftAt: committedAt)
        let otherGroup = GroupMember(memberId: "other", group: "another-group", host: "worker-d", pid: 404, startedAt: started)
        for member in [running, crashed, left, otherGroup] { try GroupMembers.record(member, on: connection) }
        try connection.execute("UPDATE group_members SET last_seen = now() - interval '5 minutes' WHERE member_id = 'crashed'")
        // A week gone: a starting worker's prune forgets it.
        try GroupMembers.record(GroupMember(memberId: "ancient", group: "console-test", host: "worker-e", pid: 505, startedAt: started), on: connection)
        try connection.execute("UPDATE group_members SET last_seen = now() - interval '8 days' WHERE member_id = 'ancient'")
        try GroupMembers.prune(group: "console-test", on: connection)

        try await fixture.test { client in
            let unsigned = try await client.execute(uri: "/api/group", method: .get)
            #expect(unsigned.status == .unauthorized)
            #expect(!String(buffer: unsigned.body).contains("worker-a"))
            let signedIn = try await Self.signIn(client, name: "viewer1", password: Self.viewerPassword)
            let answer = try await client.execute(uri: "/api/group", method: .get, headers: [.cookie: signedIn.cookie])
            #expect(answer.status == .ok)
            let group = try JSONValue.parse(Array(buffer: answer.body))
            let members = try #require(group["members"]?.arrayValue)
            #expect(members.compactMap { $0["memberId"]?.stringValue } == ["running", "crashed", "left"], "running first; other groups and the pruned left out")
            #expect(members.compactMap { $0["state"]?.stringValue } == ["active", "gone", "left"])
            let partitions = try #require(members.first?["partitions"]?.arrayValue)
            #expect(partitions.compactMap { $0["partition"]?.intValue } == [0, 1])
            #expect(partitions[0]["lastCommitOffset"]?.intValue == 17, "its predecessor's commit")
            #expect(partitions[0]["lastCommitBy"]?["memberId"]?.stringValue == "left")
            #expect(partitions[1]["lastCommitOffset"]?.intValue == 42)
            #expect(partitions[1]["lastCommitBy"]?["memberId"]?.stringValue == "running")
            #expect(partitions[1]["lastCommitAt"]?.stringValue == committedAt.formatted(Date.ISO8601FormatStyle()))
            #expect(partitions[1]["lag"]?.isNull == true, "no brokers: no lag")
            #expect(group["lagError"]?.stringValue?.contains("CSE_KAFKA_BROKERS") == true)
            #expect(members[0]["host"]?.stringValue == "worker-a" && members[0]["pid"]?.intValue == 101)

            // The outbox per topic equals the database's counts.
            let topics = try #require(group["outbox"]?["topics"]?.arrayValue)
            try fixture.admin.execute("SELECT set_config('search_path', $1, false)", fixture.schema)
            let expected = try fixture.admin.query(
                "SELECT topic, count(*) FROM outbox WHERE published_at IS NULL AND set_aside_at IS NULL GROUP BY topic ORDER BY topic"
            ).map { (try $0.decode(String.self, column: 0), Int64(try $0.decode(Int.self, column: 1))) }
            #expect(!expected.isEmpty)
            #expect(topics.map { $0["topic"]?.stringValue ?? "" } == expected.map { $0.0 })
            #expect(topics.map { $0["waiting"]?.intValue ?? -1 } == expected.map { $0.1 })
            #expect(group["outbox"]?["waiting"]?.intValue == expected.reduce(0) { $0 + $1.1 })
            #expect(group["outbox"]?["setAside"]?.intValue
                == Int64(try fixture.count("SELECT count(*) FROM outbox WHERE set_aside_at IS NOT NULL AND dropped_at IS NULL")))

            let page = try await client.execute(uri: "/group", method: .get, headers: [.cookie: signedIn.cookie])
            #expect(page.status == .ok)
            #expect(String(buffer: page.body).contains(#"data-api="/api/group""#))
        }
    }

    @Test func hstsOnlyOverTLS() async throws {
        let fixture = try Fixture(cases: 2)
        defer { fixture.drop() }
        let hsts = HTTPField.Name("Strict-Transport-Security")!
        try await fixture.test { client in
            let proxied = try await client.execute(uri: "/login", method: .get, headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
            #expect(proxied.headers[hsts] == "max-age=31536000")
            let plain = try await client.execute(uri: "/login", method: .get)
            #expect(plain.headers[hsts] == nil, "over plain HTTP the header means nothing and would be a lie")
        }
        let secured = ConsoleServer(
            configuration: ConsoleServer.Configuration(secureCookies: true), data: fixture.server.data, users: fixture.users,
            logger: Logger(label: "console-test"))
        try await fixture.test(secured) { client in
            for path in ["/login", "/api/caseload", "/assets/console.js"] {
                let answer = try await client.execute(uri: path, method: .get)
                #expect(answer.headers[hsts] == "max-age=31536000", "\(path)")
            }
        }
    }

    @Test func stateChangesNeedTheTokenAndTheOperatorRole() async throws {
        let fixture = try Fixture(cases: 2)
        defer { fixture.drop() }
        try await fixture.test { client in
            let signedIn = try await Self.signIn(client, name: "op1", password: Self.operatorPassword)
            let body = ByteBuffer(string: #"{"errorClass":"unknown-case"}"#)
            let withoutToken = try await client.execute(
                uri: "/api/deadletters/replay", method: .post, headers: [.cookie: signedIn.cookie, .contentType: "application/json"], body: body)
            #expect(withoutToken.status == .forbidden)
            let wrongToken = try await client.execute(
                uri: "/api/deadletters/replay", method: .post,
                headers: [.cookie: signedIn.cookie, .contentType: "application/json", ConsoleServer.csrfHeader: String(repeating: "0", count: 64)],
                body: body)
            #expect(wrongToken.status == .forbidden)
            let logoutWithoutToken = try await client.execute(
                uri: "/logout", method: .post, headers: [.cookie: signedIn.cookie, .contentType: "application/x-www-form-urlencoded"], body: Self.form([:]))
            #expect(logoutWithoutToken.status == .forbidden)

            let viewer = try await Self.signIn(client, name: "viewer1", password: Self.viewerPassword)
            let asViewer = try await client.execute(
                uri: "/api/deadletters/replay", method: .post,
                headers: [.cookie: viewer.cookie, .contentType: "application/json", ConsoleServer.csrfHeader: viewer.csrf], body: body)
            #expect(asViewer.status == .forbidden)
            #expect(String(buffer: asViewer.body).contains("operator"))
            let listing = try JSONValue.parse(Array(buffer: try await client.execute(uri: "/api/deadletters", method: .get, headers: [.cookie: viewer.cookie]).body))
            #expect(listing["canReplay"] == .bool(false))

            // Signing out ends the session.
            let out = try await client.execute(
                uri: "/logout", method: .post, headers: [.cookie: viewer.cookie, .contentType: "application/x-www-form-urlencoded"],
                body: Self.form(["csrf": viewer.csrf]))
            #expect(out.status == .seeOther)
            #expect(try await client.execute(uri: "/api/caseload", method: .get, headers: [.cookie: viewer.cookie]).status == .unauthorized)
        }
    }

    @Test func aRemovedOrDemotedUserLosesTheSession() async throws {
        let fixture = try Fixture(cases: 2, sessions: ConsoleSessions(verifyEvery: .zero))
        defer { fixture.drop() }
        try await fixture.test { client in
            let head = try await client.execute(uri: "/login", method: .head)
            #expect(head.status == .ok, "HEAD /login answers for health checks")
            let op = try await Self.signIn(client, name: "op1", password: Self.operatorPassword)
            let viewer = try await Self.signIn(client, name: "viewer1", password: Self.viewerPassword)
            #expect(try await client.execute(uri: "/api/caseload", method: .get, headers: [.cookie: op.cookie]).status == .ok)
            #expect(try fixture.users.remove(name: "op1"))
            #expect(try await client.execute(uri: "/api/caseload", method: .get, headers: [.cookie: op.cookie]).status == .unauthorized)
            try fixture.users.add(name: "viewer1", role: .operator, password: Self.viewerPassword)
            #expect(try await client.execute(uri: "/api/caseload", method: .get, headers: [.cookie: viewer.cookie]).status == .unauthorized,
                    "a changed role needs a new sign-in")
            _ = try await Self.signIn(client, name: "viewer1", password: Self.viewerPassword)
        }
    }

    @Test func cookiesAndHeadersKeepCaseDataPrivate() async throws {
        let fixture = try Fixture(cases: 2)
        defer { fixture.drop() }
        try await fixture.test { client in
            let page = try await client.execute(uri: "/login", method: .get, headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
            let setCookie = try #require(page.headers[.setCookie])
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Secure"))
            let plain = try await client.execute(uri: "/login", method: .get)
            #expect(plain.headers[.setCookie]?.contains("Secure") == false, "no TLS in front: the browser would drop a Secure cookie")
            let signedIn = try await Self.signIn(client, name: "op1", password: Self.operatorPassword)
            for path in Self.pages.dropFirst() + Self.apis {
                let response = try await client.execute(uri: path, method: .get, headers: [.cookie: signedIn.cookie])
                #expect(response.headers[.cacheControl] == "no-store", "\(path)")
                #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true, "\(path)")
            }
        }
    }

    @Test func figuresMatchTheDatabaseAndNoSSNIsShownInClear() async throws {
        let fixture = try Fixture(cases: 40)
        defer { fixture.drop() }
        try await fixture.test { client in
            let signedIn = try await Self.signIn(client, name: "op1", password: Self.operatorPassword)
            func get(_ path: String) async throws -> (status: HTTPResponse.Status, text: String) {
                let response = try await client.execute(uri: path, method: .get, headers: [.cookie: signedIn.cookie])
                return (response.status, String(buffer: response.body))
            }
            let caseload = try JSONValue.parse(Array(try await get("/api/caseload").text.utf8))
            #expect(caseload["total"]?.intValue == Int64(try fixture.count("SELECT count(*) FROM cases")))
            #expect(caseload["byStage"]?["ENFORCEMENT"]?.intValue ?? 0 == Int64(try fixture.count("SELECT count(*) FROM cases WHERE stage = 'ENFORCEMENT'")))
            #expect(caseload["activeReferralsByType"]?["passport-denial"]?.intValue ?? 0
                == Int64(try fixture.count("SELECT count(*) FROM referrals WHERE task_type = 'passport-denial'")))
            let list = try JSONValue.parse(Array(try await get("/api/caseload/cases?stage=ENFORCEMENT").text.utf8))
            #expect(list["cases"]?.arrayValue?.count == Int(try fixture.count("SELECT count(*) FROM cases WHERE stage = 'ENFORCEMENT'")))

            let timeliness = try JSONValue.parse(Array(try await get("/api/timeliness").text.utf8))
            let frames = try #require(timeliness["timeframes"]?.arrayValue)
            #expect(frames.compactMap { $0["id"]?.stringValue } == SupervisionReader.timeframeIds)
            for frame in frames { #expect(frame["weekly"]?.arrayValue?.count == 12) }
            let withholding = try #require(frames.first { $0["id"]?.stringValue == "income-withholding" })
            // The generated business dates lie in the past and nothing was published: every notice is past due.
            let notices = try fixture.count("""
                SELECT count(*) FROM outbox WHERE due_by < (now() AT TIME ZONE 'America/Chicago')::date AND published_at IS NULL
                  AND headers @> '[{"name":"task-type","value":"income-withholding"},{"name":"task-action","value":"ISSUE"}]'
                """)
            #expect(notices > 0)
            #expect(withholding["past"]?.intValue == Int64(notices))

            // One message the broker refused for good: set aside, out of the backlog, listed (reason, never payload).
            _ = try fixture.count("""
                WITH aside AS (UPDATE outbox SET set_aside_at = now(), set_aside_reason = 'MSG_SIZE_TOO_LARGE: Broker: Message size too large'
                               WHERE id = (SELECT min(id) FROM outbox WHERE published_at IS NULL) RETURNING 1)
                SELECT count(*) FROM aside
                """)
            let operations = try JSONValue.parse(Array(try await get("/api/operations").text.utf8))
            #expect(operations["outbox"]?["backlog"]?.intValue
                == Int64(try fixture.count("SELECT count(*) FROM outbox WHERE published_at IS NULL AND set_aside_at IS NULL")))
            #expect(operations["outbox"]?["setAside"]?.intValue == 1)
            let setAside = try #require(operations["setAside"]?.arrayValue?.first)
            #expect(setAside["reason"]?.stringValue?.hasPrefix("MSG_SIZE_TOO_LARGE") == true && setAside["topic"]?.stringValue != nil)
            #expect(operations["lagError"]?.stringValue?.contains("CSE_KAFKA_BROKERS") == true)
            let deadLetters = try JSONValue.parse(Array(try await get("/api/deadletters").text.utf8))
            #expect(deadLetters["deadLetters"]?.arrayValue?.count == Int(try fixture.count("SELECT count(*) FROM outbox WHERE sealed")))

            let group = try JSONValue.parse(Array(try await get("/api/group").text.utf8))
            #expect(group["outbox"]?["waiting"]?.intValue
                == Int64(try fixture.count("SELECT count(*) FROM outbox WHERE published_at IS NULL AND set_aside_at IS NULL")))
            #expect(group["outbox"]?["setAside"]?.intValue == 1, "the message set aside above, on the Group page too")
            #expect(group["members"]?.arrayValue?.isEmpty == true)

            // Every answer, pages and API, a few cases included: masked SSNs only.
            var caseIds: [String] = []
            try fixture.admin.execute("SELECT set_config('search_path', $1, false)", fixture.schema)
            for row in try fixture.admin.query("SELECT case_id FROM cases ORDER BY case_id LIMIT 8") { caseIds.append(try row.decode(String.self, column: 0)) }
            var paths = Self.pages + Self.apis + ["/assets/console.js"]
            for id in caseIds { paths += ["/cases/\(id)", "/api/cases/\(id)"] }
            for frame in SupervisionReader.timeframeIds { paths += ["/api/timeliness/\(frame)", "/api/timeliness/\(frame)?dueSoon=1"] }
            var masked = 0
            for path in paths {
                let answer = try await get(path)
                #expect(answer.status == .ok || answer.status == .seeOther || (answer.status == .notFound && path.contains("CS-0000001")), "\(path): \(answer.status)")
                #expect(answer.text.firstMatch(of: /\b9\d{2}-?\d{2}-?\d{4}\b/) == nil, "\(path) shows an SSN in clear")
                masked += answer.text.matches(of: /\*\*\*-\*\*-\d{4}/).count
            }
            #expect(masked > 0, "the case pages show the parties' SSNs masked")
            TestOutput.keep("checked \(paths.count) answers; \(masked) masked SSNs; caseload total \(caseload["total"]?.intValue ?? -1)", as: "console-http.txt")
        }
    }
}

@Suite struct ConsoleUsersTests {
    @Test func passwordsAreSaltedSlowHashes() throws {
        let a = try PasswordHash.make(password: "same password here")
        let b = try PasswordHash.make(password: "same password here")
        #expect(a != b, "salted")
        #expect(a.hasPrefix("scrypt$15$8$1$"))
        #expect(PasswordHash.verify(password: "same password here", encoded: a))
        #expect(!PasswordHash.verify(password: "same password herE", encoded: a))
        #expect(!PasswordHash.verify(password: "anything", encoded: "scrypt$15$8$1$$"))
    }

    @Test func theUsersFileIsPrivateAndReplacesAUser() throws {
        let directory = try TestOutput.makeDirectory("console-users")
        let file = ConsoleUserFile(path: directory.appendingPathComponent("users-\(UUID().uuidString).json").path)
        try file.add(name: "alice", role: .viewer, password: "first password!")
        try file.add(name: "alice", role: .operator, password: "second password")
        #expect(try file.authenticate(name: "alice", password: "first password!") == nil)
        #expect(try file.authenticate(name: "alice", password: "second password") == ConsoleUser(name: "alice", role: .operator))
        #expect(try file.authenticate(name: "bob", password: "second password") == nil)
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(throws: ConsoleUserFile.Problem.self) { try file.add(name: "x", role: .viewer, password: "short") }
        #expect(throws: ConsoleUserFile.Problem.self) { try file.add(name: "bad name", role: .viewer, password: "long enough password") }
    }

    /// One address's guesses lock that address, not the name: the operator elsewhere waits a second, not 15 minutes.
    @Test func guessesBackOffPerAddressAndBrieflyPerName() async throws {
        let throttle = LoginThrottle(longestNameBackoff: .seconds(4))
        #expect((1...5).allSatisfy { _ in throttle.failedGuess(name: "op1", client: "198.51.100.7") })
        let attacker = try #require(throttle.wait(name: "op1", client: "198.51.100.7"), "the guessing address may guess again")
        #expect(attacker > .seconds(14 * 60))
        let named = try #require(throttle.wait(name: "op1", client: "203.0.113.5"), "no backoff for the guessed name")
        #expect(named <= .seconds(1))
        try await Task.sleep(for: named + .milliseconds(50))
        guard case .check(let operatorsTry) = throttle.admit(name: "op1", client: "203.0.113.5") else {
            Issue.record("the operator at another address is still locked out")
            return
        }
        // Only one check of a backed-off name runs at a time.
        #expect(throttle.wait(name: "op1", client: "192.0.2.1") == .seconds(1))
        throttle.succeeded(operatorsTry)
        #expect(throttle.wait(name: "op1", client: "192.0.2.1") == nil, "a sign-in clears the name's failures")

        // A further failure doubles the name's backoff (to at most its cap).
        let spread = LoginThrottle(longestNameBackoff: .seconds(4))
        #expect((0..<5).allSatisfy { spread.failedGuess(name: "op2", client: "192.0.2.\($0)") })
        try await Task.sleep(for: .milliseconds(1_050))
        #expect(spread.failedGuess(name: "op2", client: "192.0.2.5"))
        let doubled = try #require(spread.wait(name: "op2", client: "192.0.2.200"), "no backoff after six failures")
        #expect(doubled > .seconds(1) && doubled <= .seconds(2))

        // One address spraying names stops after 20 guesses.
        let spray = LoginThrottle()
        #expect((0..<20).allSatisfy { spray.failedGuess(name: "user\($0)", client: "198.51.100.9") })
        let sprayed = try #require(spray.wait(name: "user99", client: "198.51.100.9"), "the spraying address may go on")
        #expect(sprayed > .seconds(14 * 60))
    }

    @Test func failureRecordsAreBounded() {
        let throttle = LoginThrottle(capacity: 100)
        #expect((0..<1_000).allSatisfy { throttle.failedGuess(name: "name\($0)", client: "10.0.\($0 / 256).\($0 % 256)") })
        let sizes = throttle.sizes
        #expect(sizes.byClientAndName <= 100 && sizes.byClient <= 100 && sizes.byName <= 100, "\(sizes)")
    }

    @Test func thePasswordCheckQueueIsCapped() async throws {
        let gate = SignInGate(limit: 1, queue: 1)
        #expect(await gate.enter())
        let queued = Task { await gate.enter() }
        while await gate.waitingCount == 0 { await Task.yield() }
        #expect(await gate.enter() == false, "a third caller is refused rather than queued")
        await gate.leave()
        #expect(await queued.value)
        await gate.leave()
        #expect(await gate.enter())
    }

    @Test func sessionsExpire() async throws {
        let sessions = ConsoleSessions(idleLimit: .milliseconds(200), absoluteLimit: .seconds(10))
        let session = sessions.start(ConsoleUser(name: "alice", role: .viewer), credential: "none")
        #expect(sessions.session(session.id) != nil)
        try await Task.sleep(for: .milliseconds(300))
        #expect(sessions.session(session.id) == nil, "idle too long")
        #expect(sessions.session("nonsense") == nil)
    }
}

extension LoginThrottle {
    /// A wrong guess; false when it was refused before the check.
    func failedGuess(name: String, client: String) -> Bool {
        guard case .check(let ticket) = admit(name: name, client: client) else { return false }
        failed(ticket)
        return true
    }

    /// How long a guess would wait; nil when it is admitted (and then it counts as running).
    func wait(name: String, client: String) -> Duration? {
        guard case .wait(let wait) = admit(name: name, client: client) else { return nil }
        return wait
    }
}
