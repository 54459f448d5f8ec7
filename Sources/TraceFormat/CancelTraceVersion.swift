/// The version of CancelTrace — the CLI, the Swift recorder and, through a test, the Python package — kept here
/// once: the format module is the one every other module depends on.
///
/// `python/canceltrace/_version.py` must say the same; `VersionTests` checks it (pyproject.toml reads it from there).
public enum CancelTraceVersion {
    public static let current = "0.1.0"
}
