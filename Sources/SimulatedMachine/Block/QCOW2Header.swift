/// The fields of a qcow2 header that QEMU reports in `query-named-block-nodes` (`virtual-size`,
/// `cluster-size`, `format-specific`): read from the first bytes the host gives, never the image data.
public struct QCOW2Header: Sendable, Equatable {
    public var version: UInt32
    public var clusterBits: UInt32
    public var size: Int64
    public var incompatibleFeatures: UInt64
    public var compatibleFeatures: UInt64
    public var refcountOrder: UInt32

    /// Parses a header, or nil when the bytes are not a qcow2 header QEMU would open.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count >= 72, bytes[0] == 0x51, bytes[1] == 0x46, bytes[2] == 0x49, bytes[3] == 0xFB else {
            return nil
        }
        func be(_ offset: Int, _ count: Int) -> UInt64 {
            var value: UInt64 = 0
            for i in 0..<count { value = value << 8 | UInt64(bytes[offset + i]) }
            return value
        }
        version = UInt32(be(4, 4))
        guard version == 2 || version == 3 else { return nil }
        clusterBits = UInt32(be(20, 4))
        guard clusterBits >= 9 && clusterBits <= 21 else { return nil }
        size = Int64(bitPattern: be(24, 8))
        if version == 3 && bytes.count >= 100 {
            incompatibleFeatures = be(72, 8)
            compatibleFeatures = be(80, 8)
            refcountOrder = UInt32(be(96, 4))
        } else {
            incompatibleFeatures = 0
            compatibleFeatures = 0
            refcountOrder = 4
        }
    }

    /// Whether bytes start with the qcow2 magic (QEMU's format probe).
    static func hasMagic(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && bytes[0] == 0x51 && bytes[1] == 0x46 && bytes[2] == 0x49 && bytes[3] == 0xFB
    }
}
