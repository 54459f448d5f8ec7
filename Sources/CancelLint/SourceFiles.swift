import Foundation

/// Finds the Swift files to lint under a path.
enum SourceFiles {
    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    /// A file (any extension, as given) or the `.swift` files under a folder, sorted, skipping `.build`,
    /// `.build-*`/`.build_*` scratch folders and hidden folders.
    static func collect(_ path: String) -> Result<[String], Problem> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return .failure(Problem(description: "\(path): no such file or folder"))
        }
        guard isDirectory.boolValue else { return .success([path]) }
        guard let walker = FileManager.default.enumerator(atPath: path) else {
            return .failure(Problem(description: "\(path): cannot read the folder"))
        }
        var files: [String] = []
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(".") || name == ".build" {
                walker.skipDescendants()
                continue
            }
            if name.hasSuffix(".swift") { files.append(path.hasSuffix("/") ? path + relative : path + "/" + relative) }
        }
        return .success(files.sorted())
    }
}
