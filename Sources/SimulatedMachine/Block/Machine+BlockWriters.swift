import QMPWire

/// Writers of the block graph, as far as a client can see them: QEMU's `file-posix` opens a node
/// under `auto-read-only` read-only while nothing writes to it, and reopens it read-write when a
/// writer comes (a device on a read-write node above it, or a read-write qcow2 node over it, which
/// writes metadata). Over an fd set without a read-write descriptor that reopening fails, with the
/// texts of the open (`Could not dup FD for /dev/fdset/1 flags 2: Permission denied` on 7.2.22,
/// `Failed to find file descriptor with matching flags=0x2` on 10.0.2, measured); when the last
/// writer goes the node is reopened read-only again where it can be.
extension Machine {
    /// A writer comes above `name`: its `file-posix` leaf is reopened read-write if need be.
    func acquireWrite(below name: String) throws(QMPError) {
        guard let leaf = block.leaf(of: name), leaf.driver.isPosix, let index = block.nodeIndex(leaf.name) else {
            return
        }
        if !leaf.isOpenWritable && leaf.options.autoReadOnly && !leaf.options.readOnly {
            _ = try openHost(leaf.filename, writable: true, direct: leaf.options.direct)
            block.nodes[index].isOpenWritable = true
        }
        block.nodes[index].writers += 1
    }

    /// A writer above `name` went: the last one lets an `auto-read-only` leaf go back to read-only
    /// (QEMU keeps the read-write descriptor when that reopening fails).
    func releaseWrite(below name: String) {
        guard let leaf = block.leaf(of: name), leaf.driver.isPosix, let index = block.nodeIndex(leaf.name) else {
            return
        }
        block.nodes[index].writers = max(0, leaf.writers - 1)
        guard block.nodes[index].writers == 0, leaf.isOpenWritable, leaf.options.autoReadOnly else { return }
        if (try? openHost(leaf.filename, writable: false, direct: leaf.options.direct)) != nil {
            block.nodes[index].isOpenWritable = false
        }
    }
}
