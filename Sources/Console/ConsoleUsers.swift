import Crypto
import CryptoExtras
import Foundation
import JSON

/// What a signed-in person may do: viewers read; operators also replay dead letters.
public enum ConsoleRole: String, Sendable, CaseIterable {
    case viewer
    case `operator`
}

public struct ConsoleUser: Sendable, Hashable {
    public var name: String
    public var role: ConsoleRole
}

/// Salted, slow password hashes: scrypt (N = 2^15, r = 8, p = 1, 32 MiB),
/// stored as `scrypt$15$8$1$<salt base64>$<hash base64>` so the cost can rise later.
public enum PasswordHash {
    static let logN = 15, blockSize = 8, parallelism = 1, outputBytes = 32

    public static func make(password: String) throws -> String {
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let hash = try derive(password: password, salt: salt, logN: logN, blockSize: blockSize, parallelism: parallelism)
        return "scrypt$\(logN)$\(blockSize)$\(parallelism)$\(Data(salt).base64EncodedString())$\(Data(hash).base64EncodedString())"
    }

    public static func verify(password: String, encoded: String) -> Bool {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "scrypt", let logN = Int(parts[1]), (10...20).contains(logN),
            let blockSize = Int(parts[2]), (1...16).contains(blockSize), let parallelism = Int(parts[3]), (1...4).contains(parallelism),
            let salt = Data(base64Encoded: String(parts[4])), let expected = Data(base64Encoded: String(parts[5])),
            let actual = try? derive(password: password, salt: Array(salt), logN: logN, blockSize: blockSize, parallelism: parallelism)
        else { return false }
        return constantTimeEqual(actual, Array(expected))
    }

    static func derive(password: String, salt: [UInt8], logN: Int, blockSize: Int, parallelism: Int) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: outputBytes, rounds: 1 << logN, blockSize: blockSize,
            parallelism: parallelism, maxMemory: 256 * 1024 * 1024)
        return key.withUnsafeBytes { Array($0) }
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// Verified against when the name is unknown, so a wrong name costs as long as a wrong password.
    static let decoy: String = (try? make(password: UUID().uuidString)) ?? ""
}

/// The users file: `{"users": [{"name": ..., "role": "viewer"|"operator", "passwordHash": ...}]}`,
/// written with mode 0600. Read again at each sign-in, so `add-user` takes
/// effect without restarting the console.
public struct ConsoleUserFile: Sendable {
    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    /// A user who gave the right password, and a fingerprint of the password hash
    /// they were checked against: a session ends when the file holds another.
    public struct Verified: Sendable, Equatable {
        public var user: ConsoleUser
        public var credential: String
    }

    /// How the file was when last looked at (inode, size, modification time):
    /// `add-user` replaces it (a new inode), so a changed stamp means another read.
    public struct Stamp: Sendable, Equatable {
        var inode: UInt64
        var size: Int64
        var modifiedSeconds: Int
        var modifiedNanoseconds: Int
    }

    public let path: String

    public init(path: String) {
        self.path = path
    }

    public static let longestName = 64

    static func validName(_ name: String) -> Bool {
        (1...longestName).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }

    func entries() throws -> [(user: ConsoleUser, hash: String)] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        guard let contents = FileManager.default.contents(atPath: path) else {
            throw Problem(description: "the users file \(path) cannot be read (permissions?)")
        }
        guard case .object(let root) = try JSONValue.parse(Array(contents)), case .array(let users)? = root["users"] else {
            throw Problem(description: "\(path): expected {\"users\": [...]}")
        }
        return try users.map { entry in
            guard let name = entry["name"]?.stringValue, let role = entry["role"]?.stringValue.flatMap(ConsoleRole.init(rawValue:)),
                let hash = entry["passwordHash"]?.stringValue
            else { throw Problem(description: "\(path): every user needs name, role (viewer or operator) and passwordHash") }
            return (ConsoleUser(name: name, role: role), hash)
        }
    }

    /// The user with this name and password, or nil (the cost is the same either way).
    public func authenticate(name: String, password: String) throws -> ConsoleUser? {
        try verify(name: name, password: password)?.user
    }

    /// `authenticate`, with the credential a session is bound to.
    public func verify(name: String, password: String) throws -> Verified? {
        let found = try entries().first { $0.user.name == name }
        let matches = PasswordHash.verify(password: password, encoded: found?.hash ?? PasswordHash.decoy)
        guard let found, matches else { return nil }
        return Verified(user: found.user, credential: Self.fingerprint(found.hash))
    }

    /// Names the stored hash without holding it (a new password means a new salt, so a new fingerprint).
    static func fingerprint(_ hash: String) -> String {
        SHA256.hash(data: Array(hash.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// Adds the user, or replaces the password and role of one with that name.
    public func add(name: String, role: ConsoleRole, password: String) throws {
        guard Self.validName(name) else {
            throw Problem(description: "a user name is 1-64 letters, digits, '.', '_' or '-'")
        }
        guard password.count >= 12 else { throw Problem(description: "a password needs at least 12 characters") }
        var entries = try entries().filter { $0.user.name != name }
        entries.append((ConsoleUser(name: name, role: role), try PasswordHash.make(password: password)))
        try write(entries)
    }

    /// Removes the user; false when there was none by that name. Their open sessions end at their next request.
    public func remove(name: String) throws -> Bool {
        let all = try entries()
        let kept = all.filter { $0.user.name != name }
        guard kept.count < all.count else { return false }
        try write(kept)
        return true
    }

    /// Whether the user still exists with this role and password (a removed, demoted
    /// or re-passworded user's session ends).
    public func stillValid(_ user: ConsoleUser, credential: String) -> Bool {
        (try? entries().contains { $0.user == user && Self.fingerprint($0.hash) == credential }) ?? false
    }

    /// nil when the file cannot be looked at (then sessions are checked against it anyway).
    public func stamp() -> Stamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Stamp(
            inode: UInt64(info.st_ino), size: Int64(info.st_size), modifiedSeconds: Int(info.st_mtim.tv_sec),
            modifiedNanoseconds: Int(info.st_mtim.tv_nsec))
    }

    private func write(_ entries: [(user: ConsoleUser, hash: String)]) throws {
        let document = JSONValue.object(["users": .array(entries.map { entry in
            .object(["name": .string(entry.user.name), "role": .string(entry.user.role.rawValue), "passwordHash": .string(entry.hash)])
        })])
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(
            atPath: temporary, contents: Data(document.serialized() + [0x0A]), attributes: [.posixPermissions: 0o600])
        else { throw Problem(description: "cannot write \(temporary)") }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw Problem(description: "cannot replace \(path): \(String(cString: strerror(errno)))")
        }
    }
}
