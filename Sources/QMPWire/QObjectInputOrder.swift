/// Which member QEMU's QObject input visitor names when several are unexpected.
///
/// The visitor (`qobject_input_start_struct`) copies the names of an object's members into a GLib
/// hash table, removes each one as the generated code visits it (in schema order), and at the end
/// (`qobject_input_check_struct`) reports the first name the table's iterator yields:
/// `Parameter 'NAME' is unexpected`. That order is GLib's, not the input's. It is a pure function of
/// the names, so it is reproduced here exactly:
///
/// 1. QEMU's JSON parser builds a QDict (``QDictOrder``: 512 buckets by `tdb_hash`, newest entry first
///    in a bucket); the visitor copies the names in that order.
/// 2. The GHashTable of GLib 2.74 (Debian 12's, which QEMU 7.2 and the 10.0 backport link):
///    `g_str_hash` (djb2), slot `(hash * 11) % prime_mod[shift]`, quadratic probing over a table of
///    `1 << shift` slots (8 at first), tombstones on removal, resizing (`g_hash_table_maybe_resize`,
///    in-place rehash of `resize_map`) when it fills or empties.
/// 3. Removals in visit order, then the first live slot.
public enum QObjectInputOrder {
    /// The member of `object` QEMU reports as unexpected when the schema knows the members of
    /// `schemaOrder` (visited in that order), or nil when every member is known. With one unknown
    /// member it is that one; with several, the first in GLib's order.
    public static func unexpectedMember(in object: JSONObject, schemaOrder: [String]) -> String? {
        var first: String?
        var several = false
        for member in object.members where !schemaOrder.contains(member.key) {
            if first == nil { first = member.key } else { several = true }
        }
        guard several, let first else { return first }
        let visited = schemaOrder.filter { object[$0] != nil }
        return firstLeftOver(in: object, visited: visited) ?? first
    }

    /// The name QEMU reports among the members of `object` left over once the visitor consumed
    /// `visited`, in the order it visited them. The table is filled in the QDict's order
    /// (``QDictOrder``: a parsed object has no repeated name).
    public static func firstLeftOver(in object: JSONObject, visited: [String]) -> String? {
        var table = GLibStringSet()
        for name in QDictOrder.orderedKeys(of: object) { table.insert(name) }
        for name in visited { table.remove(name) }
        return table.first
    }
}

/// GLib 2.74's `GHashTable` with string keys, reduced to what decides iteration order: the hashes
/// array (0 unused, 1 tombstone, ≥ 2 a live entry's hash), the keys, and the resize rules.
struct GLibStringSet {
    private static let minShift = 3
    /// GLib's `prime_mod`, indexed by shift.
    private static let primeMod: [UInt32] = [
        1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071, 262139,
        524287, 1_048_573, 2_097_143, 4_194_301, 8_388_593, 16_777_213, 33_554_393, 67_108_859, 134_217_689,
        268_435_399, 536_870_909, 1_073_741_789, 2_147_483_647,
    ]

    private var hashes: [UInt32] = Array(repeating: 0, count: 8)
    private var keys: [String?] = Array(repeating: nil, count: 8)
    private var mod: UInt32 = 7
    private var nodes = 0
    private var occupied = 0

    private var size: Int { hashes.count }
    private var mask: Int { hashes.count - 1 }

    /// `g_str_hash`: djb2 over signed chars; 0 and 1 are reserved, so GLib uses 2 for them.
    static func strHash(_ key: String) -> UInt32 {
        var h: UInt32 = 5381
        for byte in key.utf8 { h = (h << 5) &+ h &+ UInt32(bitPattern: Int32(Int8(bitPattern: byte))) }
        return h <= 1 ? 2 : h
    }

    private func index(_ hash: UInt32) -> Int { Int((hash &* 11) % mod) }

    /// `g_hash_table_lookup_node`: the key's slot, or the slot an insert would take.
    private func lookup(_ key: String, hash: UInt32) -> (slot: Int, found: Bool) {
        var slot = index(hash)
        var step = 0
        var tombstone: Int?
        while hashes[slot] != 0 {
            if hashes[slot] == hash, keys[slot] == key { return (slot, true) }
            if hashes[slot] == 1, tombstone == nil { tombstone = slot }
            step += 1
            slot = (slot + step) & mask
        }
        return (tombstone ?? slot, false)
    }

    mutating func insert(_ key: String) {
        let hash = Self.strHash(key)
        let (slot, found) = lookup(key, hash: hash)
        guard !found else { return }
        let wasUnused = hashes[slot] == 0
        hashes[slot] = hash
        keys[slot] = key
        nodes += 1
        if wasUnused {
            occupied += 1
            maybeResize()
        }
    }

    mutating func remove(_ key: String) {
        let (slot, found) = lookup(key, hash: Self.strHash(key))
        guard found else { return }
        hashes[slot] = 1
        keys[slot] = nil
        nodes -= 1
        maybeResize()
    }

    /// The first live entry in slot order (`g_hash_table_iter_next`).
    var first: String? {
        for slot in 0..<size where hashes[slot] >= 2 { return keys[slot] }
        return nil
    }

    private mutating func maybeResize() {
        if (size > nodes * 4 && size > 1 << Self.minShift) || size <= occupied + occupied / 16 { resize() }
    }

    /// `g_hash_table_resize` with `resize_map`: the new size from `nnodes * 1.333`, then the live
    /// entries rehashed in place in old-slot order, an entry that lands on an unmoved one evicting it.
    private mutating func resize() {
        let oldSize = size
        var target = Int(Double(nodes) * 1.333)
        var shift = 0
        while target != 0 {
            target >>= 1
            shift += 1
        }
        shift = max(shift, Self.minShift)
        let newSize = 1 << shift
        mod = Self.primeMod[shift]
        if newSize > oldSize {
            hashes += Array(repeating: 0, count: newSize - oldSize)
            keys += Array(repeating: nil, count: newSize - oldSize)
        }
        var moved = Array(repeating: false, count: max(newSize, oldSize))
        let newMask = newSize - 1
        for i in 0..<oldSize {
            var hash = hashes[i]
            if hash < 2 {
                hashes[i] = 0
                continue
            }
            if moved[i] { continue }
            hashes[i] = 0
            var key = keys[i]
            keys[i] = nil
            while true {
                var slot = Int((hash &* 11) % mod)
                var step = 0
                while moved[slot] {
                    step += 1
                    slot = (slot + step) & newMask
                }
                moved[slot] = true
                let replaced = hashes[slot]
                let replacedKey = keys[slot]
                hashes[slot] = hash
                keys[slot] = key
                if replaced < 2 { break }
                hash = replaced
                key = replacedKey
            }
        }
        if newSize < oldSize {
            hashes.removeLast(oldSize - newSize)
            keys.removeLast(oldSize - newSize)
        }
        occupied = nodes
    }
}
