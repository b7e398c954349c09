/// Password masking for libpq connection strings, so that configuration can be
/// logged and errors can quote what was being connected to.
public enum PostgresConnectionString {
    static let mask = "***"

    /// The connection string with any password replaced by `***`. Handles both
    /// URIs (`postgresql://user:pw@host/db?password=pw`) and keyword/value
    /// strings (`host=h password='p w'`).
    public static func masked(_ connectionString: String) -> String {
        if isURI(connectionString) {
            return maskedURI(connectionString)
        }
        return maskedKeywordValue(connectionString)
    }

    /// Every password that appears in the string, so that messages echoing it
    /// (libpq never should, but a server or a typo might) can be scrubbed.
    static func passwords(in connectionString: String) -> [String] {
        var found: [String] = []
        if isURI(connectionString) {
            let (authority, _) = uriAuthority(connectionString)
            if let authority, let at = authority.lastIndex(of: "@") {
                let userInfo = authority[..<at]
                if let colon = userInfo.firstIndex(of: ":") {
                    found.append(percentDecoded(userInfo[userInfo.index(after: colon)...]))
                }
            }
            if let question = connectionString.firstIndex(of: "?") {
                for pair in connectionString[connectionString.index(after: question)...].split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    if parts.count == 2, parts[0] == "password" { found.append(percentDecoded(parts[1])) }
                }
            }
        } else {
            for token in keywordValueTokens(connectionString) where token.keyword == "password" {
                found.append(token.value)
            }
        }
        return found.filter { !$0.isEmpty }
    }

    /// Replaces each known password in `text` with the mask.
    static func scrub(_ text: String, passwords: [String]) -> String {
        var text = text
        for password in passwords where text.contains(password) {
            text = text.replacingAll(password, with: mask)
        }
        return text
    }

    static func isURI(_ s: String) -> Bool {
        s.hasPrefix("postgresql://") || s.hasPrefix("postgres://")
    }

    // MARK: URI form

    /// The authority (`user:pw@host:port`) of a URI and where it ends.
    private static func uriAuthority(_ uri: String) -> (Substring?, String.Index) {
        guard let schemeEnd = uri.firstRange(of: "://")?.upperBound else { return (nil, uri.startIndex) }
        let rest = uri[schemeEnd...]
        let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? uri.endIndex
        return (uri[schemeEnd..<end], end)
    }

    private static func maskedURI(_ uri: String) -> String {
        let (authority, authorityEnd) = uriAuthority(uri)
        guard let authority else { return uri }
        var result = String(uri[..<authority.startIndex])
        if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
            result += authority[...colon] + mask + authority[at...]
        } else {
            result += authority
        }
        let tail = uri[authorityEnd...]
        guard let question = tail.firstIndex(of: "?") else { return result + tail }
        result += tail[...question]
        let pairs = tail[tail.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false)
        result += pairs.map { pair -> String in
            pair.hasPrefix("password=") ? "password=" + mask : String(pair)
        }.joined(separator: "&")
        return result
    }

    private static func percentDecoded(_ s: Substring) -> String {
        guard s.contains("%") else { return String(s) }
        var bytes: [UInt8] = []
        var utf8 = Array(s.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
                let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: keyword/value form

    struct Token {
        var keyword: String
        var value: String
        /// Range of the raw value text (including quotes) in the source.
        var valueRange: Range<String.Index>
    }

    /// Tokenizes `kw = value kw='quoted \' value'` following libpq's rules
    /// closely enough to find passwords; malformed tails are ignored.
    static func keywordValueTokens(_ s: String) -> [Token] {
        var tokens: [Token] = []
        var i = s.startIndex
        func skipSpaces() { while i < s.endIndex, s[i].isWhitespace { i = s.index(after: i) } }
        while true {
            skipSpaces()
            guard i < s.endIndex else { break }
            let keywordStart = i
            while i < s.endIndex, s[i] != "=", !s[i].isWhitespace { i = s.index(after: i) }
            let keyword = String(s[keywordStart..<i])
            skipSpaces()
            guard i < s.endIndex, s[i] == "=" else { break }
            i = s.index(after: i)
            skipSpaces()
            let valueStart = i
            var value = ""
            if i < s.endIndex, s[i] == "'" {
                i = s.index(after: i)
                while i < s.endIndex, s[i] != "'" {
                    if s[i] == "\\", s.index(after: i) < s.endIndex { i = s.index(after: i) }
                    value.append(s[i])
                    i = s.index(after: i)
                }
                if i < s.endIndex { i = s.index(after: i) }
            } else {
                while i < s.endIndex, !s[i].isWhitespace {
                    if s[i] == "\\", s.index(after: i) < s.endIndex { i = s.index(after: i) }
                    value.append(s[i])
                    i = s.index(after: i)
                }
            }
            tokens.append(Token(keyword: keyword, value: value, valueRange: valueStart..<i))
        }
        return tokens
    }

    private static func maskedKeywordValue(_ s: String) -> String {
        var result = s
        for token in keywordValueTokens(s).reversed() where token.keyword == "password" {
            result.replaceSubrange(token.valueRange, with: mask)
        }
        return result
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
