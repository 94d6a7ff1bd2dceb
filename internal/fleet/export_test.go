package fleet

// Unshared makes the peers listen each on its own, as they do where
// SO_BINDTODEVICE is not available, so that the fallback is tested on
// Linux too.
func (f *Fleet) Unshared() { f.unshared = true }
