/// One of libyaml's parse events, in Swift: what ``YAMLTreeBuilder`` turns into ``YAMLNode``s.
///
/// A separate value so that the builder (aliases, merge keys, tags, duplicate keys) is plain Swift
/// that never touches libyaml's C structures. Positions are 1-based.
enum YAMLEvent {
    /// Where an event starts: 1-based line and column (columns count Unicode scalars).
    struct Mark {
        var line: Int
        var column: Int
    }

    /// `---`, or the first content of an implicit document.
    case documentStart(Mark)
    /// A scalar with its anchor and tag as written (the tag resolved by libyaml: `!!str` arrives as
    /// `tag:yaml.org,2002:str`).
    case scalar(String, YAMLScalar.Style, anchor: String?, tag: String?, Mark)
    /// The start of a block or flow sequence.
    case sequenceStart(anchor: String?, tag: String?, Mark)
    /// The end of the innermost sequence.
    case sequenceEnd
    /// The start of a block or flow mapping.
    case mappingStart(anchor: String?, tag: String?, Mark)
    /// The end of the innermost mapping.
    case mappingEnd
    /// `*name`.
    case alias(String, Mark)
    /// Stream and document starts and ends that carry nothing the tree needs.
    case other
    /// The end of the input.
    case streamEnd
}
