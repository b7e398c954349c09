/// Text from events (names, employers, change summaries) shown on an
/// operator's terminal or in a log line: a name carrying escape sequences
/// could retitle the window, rewrite earlier lines or hide text. Whole
/// ESC/CSI/OSC/DCS sequences are dropped, then any other C0 or C1 control
/// and the bidirectional overrides that reorder what is displayed.
public enum TerminalText {
    public static func printable(_ text: String) -> String {
        var kept = String.UnicodeScalarView()
        var scalars = text.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            switch scalar.value {
            case 0x1B:
                guard let next = scalars.next() else { break }
                switch next {
                case "[": skipControlSequence(&scalars)
                case "]", "P", "X", "^", "_": skipString(&scalars)
                default: break  // a two-character escape (ESC c, ESC 7, ...)
                }
            case 0x9B: skipControlSequence(&scalars)
            case 0x90, 0x98, 0x9D, 0x9E, 0x9F: skipString(&scalars)
            case 0x00...0x1F, 0x7F...0x9F, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069:
                break
            default:
                kept.append(scalar)
            }
        }
        return String(kept)
    }

    /// CSI: parameters and intermediates up to a final byte 0x40-0x7E.
    private static func skipControlSequence(_ scalars: inout String.UnicodeScalarView.Iterator) {
        while let scalar = scalars.next(), !(0x40...0x7E).contains(scalar.value) {}
    }

    /// OSC, DCS, SOS, PM, APC: up to BEL, ST (ESC \ or 0x9C), or the end.
    private static func skipString(_ scalars: inout String.UnicodeScalarView.Iterator) {
        while let scalar = scalars.next() {
            if scalar.value == 0x07 || scalar.value == 0x9C { return }
            if scalar.value == 0x1B {
                _ = scalars.next()
                return
            }
        }
    }
}
