package receive

import "crypto/ed25519"

// SignRepliesWith makes r sign its replies with key instead of its
// transfer identity's, as an outer whose replies must be refused would.
// Call it before Serve.
func SignRepliesWith(r *Receiver, key ed25519.PrivateKey) { r.key = key }
