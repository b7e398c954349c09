import CaseDomain
import Crypto
import Foundation
import Postgres

/// Why an SSN key could not be used. Never carries the key material.
public enum SSNKeyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `CSE_SSN_KEY` is unset or empty.
    case missing(variable: String)
    /// Neither hex nor base64.
    case unreadable(variable: String)
    /// Decoded, but shorter than 32 bytes.
    case tooShort(variable: String, bytes: Int)

    public var description: String {
        switch self {
        case .missing(let variable):
            "\(variable) is not set: it must hold a secret of at least 32 bytes, hex or base64 encoded"
        case .unreadable(let variable):
            "\(variable) is neither hex nor base64"
        case let .tooShort(variable, bytes):
            "\(variable) decodes to \(bytes) bytes; at least 32 are required"
        }
    }
}

/// The one secret from which SSN protection derives its keys (`CSE_SSN_KEY`).
/// Its description never shows the secret.
public struct SSNKey: Sendable, CustomStringConvertible {
    public static let environmentVariable = "CSE_SSN_KEY"
    public static let minimumBytes = 32

    let secret: SymmetricKey

    /// `text` is hex (64+ hex digits) or base64 (standard or URL-safe, padding optional).
    public init(encoded text: String, variable: String = SSNKey.environmentVariable) throws(SSNKeyError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .missing(variable: variable) }
        guard let bytes = Self.hex(trimmed) ?? Self.base64(trimmed) else { throw .unreadable(variable: variable) }
        try self.init(bytes: bytes, variable: variable)
    }

    public init(bytes: [UInt8], variable: String = SSNKey.environmentVariable) throws(SSNKeyError) {
        guard bytes.count >= Self.minimumBytes else { throw .tooShort(variable: variable, bytes: bytes.count) }
        secret = SymmetricKey(data: bytes)
    }

    /// Reads `CSE_SSN_KEY`; `run` refuses to start (exit 64) when this throws.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(SSNKeyError) -> SSNKey {
        guard let text = environment[environmentVariable] else { throw .missing(variable: environmentVariable) }
        return try SSNKey(encoded: text)
    }

    /// A fresh random key (tests, local development).
    public static func random() -> SSNKey {
        // 32 random bytes always pass the length check.
        try! SSNKey(bytes: SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
    }

    public var description: String { "SSNKey(redacted)" }

    private static func hex(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func base64(_ text: String) -> [UInt8]? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.utf8.count % 4 != 0 { standard += "=" }
        return Data(base64Encoded: standard).map { Array($0) }
    }
}

/// HMAC-SHA256 of an SSN's nine digits under the matching key: what
/// `parties.ssn_hash` holds and what employer reports are matched by. Equal
/// SSNs give equal hashes under one key; without the key it reveals nothing
/// a dictionary of the 10^9 possible SSNs could recover.
public struct SSNHash: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// Lower-case hex, e.g. for `parked_events.match_key`.
    public var hex: String { Bytea.hex(bytes) }

    public var description: String { "SSNHash(\(hex.prefix(12))...)" }

    public static func < (a: SSNHash, b: SSNHash) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }

    /// The advisory-lock key this identity is serialised by (first 8 bytes).
    var lockKey: Int64 { bytes.prefix(8).reduce(0) { $0 << 8 | Int64($1) } }
}

extension SSNHash: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    public static var postgresArrayType: PostgresTypeOID { PostgresTypeOID(1001) }  // bytea[]
    public static var postgresElementType: PostgresTypeOID { .bytea }
    public var postgresParameter: PostgresParameterValue { bytes.postgresParameter }
    public var postgresArrayElementText: String? { "\\x" + hex }
    public static var postgresBinaryElements: Bool { true }
    public func appendPostgresBinaryElement(to out: inout [UInt8]) -> Bool {
        out.append(contentsOf: bytes)
        return true
    }
    public init(postgresCell cell: PostgresCell) throws { self.init(bytes: try [UInt8](postgresCell: cell)) }
}

/// Sealing failed: the bytes were not sealed under this key for this context
/// (wrong CSE_SSN_KEY, tampering, or a row moved to another case).
public struct SealError: Error, Sendable, CustomStringConvertible {
    public let context: String
    public var description: String {
        "could not open data sealed for \(context): wrong CSE_SSN_KEY or corrupted row"
    }
}

/// Keyed hashing and authenticated encryption for SSNs and for anything that
/// may carry them (parked raw events, dead-letter payloads). Two independent
/// keys are HKDF-derived from the one secret, so the matching key and the
/// encryption key never coincide.
public struct SSNProtector: Sendable {
    /// HMAC keyed once: copying it skips the key schedule on every hash
    /// (several per event on the hot path).
    private let keyedHMAC: HMAC<SHA256>
    private let sealKey: SymmetricKey
    /// Hashes already computed, shared by every copy: the same people come
    /// back batch after batch (each event's identities, each changed case's
    /// parties), and a lookup costs a fraction of an HMAC.
    private let memo = HashMemo()

    public init(key: SSNKey) {
        let salt = Array("csworker ssn protection".utf8)
        let hashKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: key.secret, salt: salt, info: Array("ssn-hash-v1".utf8), outputByteCount: 32)
        keyedHMAC = HMAC<SHA256>(key: hashKey)
        sealKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: key.secret, salt: salt, info: Array("ssn-seal-v1".utf8), outputByteCount: 32)
    }

    public func hash(_ ssn: SSN) -> SSNHash {
        if let known = memo.value(for: ssn.digits) { return known }
        var hmac = keyedHMAC
        hmac.update(data: Array(ssn.digits.utf8))
        let hash = SSNHash(bytes: Array(hmac.finalize()))
        memo.store(hash, for: ssn.digits)
        return hash
    }

    /// SSN digits to their hash, bounded (`RecentlyUsed`), shared by threads.
    final class HashMemo: @unchecked Sendable {
        private let lock = NSLock()
        private var hashes = RecentlyUsed<String, SSNHash>(capacity: 50_000)

        func value(for digits: String) -> SSNHash? {
            lock.lock()
            defer { lock.unlock() }
            return hashes.use(digits)
        }

        func store(_ hash: SSNHash, for digits: String) {
            lock.lock()
            defer { lock.unlock() }
            hashes.put(digits, hash)
        }
    }

    /// AES-256-GCM, nonce || ciphertext || tag. `context` is authenticated but
    /// not stored (e.g. the case id): sealed bytes copied to another context
    /// do not open.
    public func seal(_ plaintext: [UInt8], context: String) throws -> [UInt8] {
        let box = try AES.GCM.seal(plaintext, using: sealKey, authenticating: Array(context.utf8))
        guard let combined = box.combined else { throw SealError(context: context) }
        return Array(combined)
    }

    public func open(_ sealed: [UInt8], context: String) throws -> [UInt8] {
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            return Array(try AES.GCM.open(box, using: sealKey, authenticating: Array(context.utf8)))
        } catch {
            throw SealError(context: context)
        }
    }
}
