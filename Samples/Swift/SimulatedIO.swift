/// Stands in for I/O that must finish even in a cancelled task: closing a connection, flushing a file.
///
/// Cleanup runs in a task that is already cancelled, so a plain `Task.sleep` there would throw at once. This
/// waits in its own unstructured task instead, which the caller's cancel does not reach.
func closeConnection() async {
    _ = await Task { try await Task.sleep(for: .milliseconds(2)) }.result
}
