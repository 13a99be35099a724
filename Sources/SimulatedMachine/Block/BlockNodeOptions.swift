/// The members of `BlockdevOptions` common to every driver that qmp-mockd keeps: what
/// `query-named-block-nodes` reports of them (`ro`, `cache`, `detect_zeroes`) and what inline children
/// inherit.
public struct BlockNodeOptions: Sendable, Equatable {
    public var readOnly = false
    public var autoReadOnly = false
    /// `discard`: `ignore` or `unmap` (not reported by the queries).
    public var discard = "ignore"
    /// `cache.direct`.
    public var direct = false
    /// `cache.no-flush`.
    public var noFlush = false
    /// `detect-zeroes`: `off`, `on` or `unmap`.
    public var detectZeroes = "off"

    public init() {}

    /// What a child opened inline inherits (QEMU's `bdrv_inherited_options`): read-only modes and
    /// cache modes; `discard` defaults to `unmap` on lower layers; `detect-zeroes` is not inherited.
    var inheritedByChild: BlockNodeOptions {
        var child = BlockNodeOptions()
        child.readOnly = readOnly
        child.autoReadOnly = autoReadOnly
        child.direct = direct
        child.noFlush = noFlush
        child.discard = "unmap"
        return child
    }
}
