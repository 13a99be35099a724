/// The member order of QEMU's `QDict` (`qobject/qdict.c`), which decides how QEMU serialises objects.
///
/// A `QDict` has 512 buckets chosen by `tdb_hash(key) % 512`; iteration walks the buckets in
/// ascending order and, inside a bucket, newest entry first. Reproducing it makes our output
/// byte-identical to QEMU's for objects built in the same insertion order, and decides which
/// member error the dispatcher reports first.
public enum QDictOrder {
    /// Number of hash buckets in a QEMU `QDict`.
    public static let bucketCount: UInt32 = 512

    /// QEMU's `tdb_hash`, modulo the bucket count.
    @inlinable public static func bucket(of key: String) -> UInt32 {
        var key = key
        return key.withUTF8 { bytes in
            var value: UInt32 = 0x238F_13AF &* UInt32(truncatingIfNeeded: bytes.count)
            // Shift by (i * 5) % 24, stepped instead of divided.
            var shift: UInt32 = 0
            for i in 0..<bytes.count {
                value = value &+ (UInt32(bytes[i]) << shift)
                shift += 5
                if shift >= 24 { shift -= 24 }
            }
            return (1_103_515_243 &* value &+ 12345) % bucketCount
        }
    }

    /// Calls `body` with member indices of `object` in QDict iteration order.
    @inlinable public static func withOrderedIndices<R>(
        of object: JSONObject,
        _ body: (UnsafeBufferPointer<Int>) throws -> R
    ) rethrows -> R {
        let n = object.count
        return try withUnsafeTemporaryAllocation(of: (bucket: UInt32, index: Int).self, capacity: max(n, 1)) {
            entries in
            let members = object.members
            for i in 0..<n {
                entries[i] = (bucket(of: members[i].key), i)
            }
            // Insertion sort: objects are small. Bucket ascending, then newest (higher index) first.
            if n > 1 {
                for i in 1..<n {
                    let e = entries[i]
                    var j = i - 1
                    while j >= 0
                        && (entries[j].bucket > e.bucket
                            || (entries[j].bucket == e.bucket && entries[j].index < e.index))
                    {
                        entries[j + 1] = entries[j]
                        j -= 1
                    }
                    entries[j + 1] = e
                }
            }
            return try withUnsafeTemporaryAllocation(of: Int.self, capacity: max(n, 1)) { order in
                for i in 0..<n { order[i] = entries[i].index }
                return try body(UnsafeBufferPointer(rebasing: order[0..<n]))
            }
        }
    }

    /// The keys of `object` in QDict iteration order.
    public static func orderedKeys(of object: JSONObject) -> [String] {
        withOrderedIndices(of: object) { $0.map { object.members[$0].key } }
    }
}
