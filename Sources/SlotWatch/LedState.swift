/// An indicator (power or attention LED) as `machine-state` reports it, with the glyph `watch` draws
/// for it: ● on, ◐ blinking, ○ off, and ? for the reserved encoding `00` a guest may write.
///
/// The glyphs are the whole point of the view: what a guest did to an LED is what management
/// software could not see before the v8 series.
public enum LedState: String, Sendable, Equatable {
    case on
    case blinking
    case off
    case reserved

    /// Parses `machine-state`'s text (`on`, `blinking`, `off`, `reserved`); anything else is reserved.
    public init(text: String?) {
        self = text.flatMap(LedState.init(rawValue:)) ?? .reserved
    }

    /// One character, one terminal column wide.
    public var glyph: String {
        switch self {
        case .on: "●"
        case .blinking: "◐"
        case .off: "○"
        case .reserved: "?"
        }
    }

    /// The glyph and the word: `● on`, `◐ blinking`, `○ off`, `? reserved`.
    public var drawn: String { "\(glyph) \(rawValue)" }
}
