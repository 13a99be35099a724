/// The machine's user-creatable objects (QOM's `/objects` container) in creation order, the
/// built-in `pc.ram` first.
///
/// QEMU lists `/objects` (and `query-memdev`, `query-iothreads`) in GLib hash-table order; qmp-mockd
/// keeps creation order (a documented deviation). The OS side lives behind ``host``.
public struct ObjectTable: Sendable {
    /// The objects, oldest first.
    public internal(set) var objects: [UserObject] = []
    /// The OS side, set by the daemon; ``ObjectHost/none`` in tests.
    public var host = ObjectHost.none
    /// The serial of the next object (``UserObject/serial``).
    var nextSerial = 0
    /// How many iothreads were ever created: each gets a fake, stable `thread-id` from it.
    var iothreadsCreated = 0

    init() {}

    /// The index of object `id`.
    func index(of id: String) -> Int? { objects.firstIndex { $0.id == id } }

    /// The object `id`, if any.
    public subscript(id: String) -> UserObject? { index(of: id).map { objects[$0] } }

    /// The index of the object with `serial`.
    func index(serial: Int) -> Int? { objects.firstIndex { $0.serial == serial } }
}
