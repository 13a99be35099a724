/// Where the machine sends the events it raises. The server stamps them and fans them out to
/// every negotiated QMP session; tests collect them.
public protocol MachineEventSink: AnyObject {
    func emit(_ event: MachineEvent)
}
