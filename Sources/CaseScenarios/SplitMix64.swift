/// The generator's only source of randomness: SplitMix64 (Steele, Lea and
/// Flood, 2014). Our own implementation rather than the standard library's
/// `random(in:using:)`, whose reduction algorithm is not promised to stay the
/// same across toolchains: a seed must give the same bytes everywhere.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// A generator for one named thing (a case, an employer, a week), so each
    /// thing's randomness does not depend on the order the others are visited in.
    init(_ a: UInt64, _ b: UInt64, _ c: UInt64 = 0) {
        state = SplitMix64.hash(a, b, c)
    }

    static func finalize(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func hash(_ a: UInt64, _ b: UInt64, _ c: UInt64 = 0) -> UInt64 {
        finalize(finalize(finalize(a &+ 0x9E37_79B9_7F4A_7C15) ^ b &+ 0x632B_E59B_D9B4_E019) ^ c)
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.finalize(state)
    }

    /// Uniform in `range` (Lemire's multiply-shift; the bias is below 2^-40 for our ranges).
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound) &+ 1
        return range.lowerBound + Int(next().multipliedFullWidth(by: span).high)
    }

    /// Uniform in `0..<bound`.
    mutating func below(_ bound: Int) -> Int { int(0...(bound - 1)) }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

    /// An index drawn with the given relative weights.
    mutating func weighted(_ weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        guard total > 0 else { return 0 }
        var x = unit() * total
        for (i, w) in weights.enumerated() {
            if x < w { return i }
            x -= w
        }
        return weights.count - 1
    }

    /// A version-4-shaped UUID string, lower case.
    mutating func uuid() -> String { UUIDText.format(next(), next()) }
}

enum UUIDText {
    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx` from 128 bits, with the version
    /// and variant bits set so strict UUID parsers accept it.
    static func format(_ high: UInt64, _ low: UInt64) -> String {
        let hi = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let lo = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        var out = [UInt8]()
        out.reserveCapacity(36)
        for shift in stride(from: 60, through: 0, by: -4) {
            if shift == 28 || shift == 12 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int((hi >> UInt64(shift)) & 0xF)])
        }
        for shift in stride(from: 60, through: 0, by: -4) {
            if shift == 44 { out.append(UInt8(ascii: "-")) }
            if shift == 60 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int((lo >> UInt64(shift)) & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hexString<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in bytes {
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
