// The counter is read from the header's inline functions; this file gives the target a source to build.
