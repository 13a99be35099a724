/// The machine's block layer: the node graph and the BlockBackends, with QEMU's orders and names.
///
/// Nodes are kept in the order QEMU's `graph_bdrv_states` has them (the order their names were
/// assigned: a child before its parent), which `query-named-block-nodes` lists newest first; backends
/// in creation order, which `query-block` keeps. Generated node names follow QEMU's `id_generate`:
/// `#block`, a counter from 0, and two digits QEMU draws at random; qmp-mockd draws them from a
/// fixed pseudo-random sequence, so runs repeat.
public struct BlockLayer: Sendable {
    public internal(set) var nodes: [BlockNode] = []
    public internal(set) var backends: [BlockBackend] = []
    var generatedCount: UInt64 = 0
    var randomState: UInt64 = 0x9E37_79B9_7F4A_7C15

    public init() {}

    /// The node named `name`.
    public func node(_ name: String) -> BlockNode? { nodes.first { $0.name == name } }

    func nodeIndex(_ name: String) -> Int? { nodes.firstIndex { $0.name == name } }

    /// The named backend `name`.
    public func backend(named name: String) -> BlockBackend? {
        name.isEmpty ? nil : backends.first { $0.name == name }
    }

    /// The next generated node name.
    mutating func generateName() -> String {
        randomState = randomState &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let random = (randomState >> 33) % 100
        let name = "#block\(generatedCount)" + (random < 10 ? "0\(random)" : "\(random)")
        generatedCount += 1
        return name
    }

    /// How many nodes have `name` as a child.
    func parentCount(of name: String) -> Int {
        nodes.reduce(0) { $0 + $1.children.filter { $0.node == name }.count }
    }

    /// How many backends have `name` as their root.
    func backendCount(of name: String) -> Int { backends.filter { $0.root == name }.count }

    /// The protocol node at the bottom of `name`'s `file` chain.
    func leaf(of name: String) -> BlockNode? {
        guard var node = node(name) else { return nil }
        while let child = node.children.first(where: { $0.role == "file" }), let next = self.node(child.node) {
            node = next
        }
        return node
    }

    /// The header bytes under a node (its protocol leaf's).
    func header(of name: String) -> [UInt8] { leaf(of: name)?.header ?? [] }
}
