// VerifyAuditLog: recomputes the audit log's hash chain and checks every
// signed checkpoint, and names the first record that was changed, removed or
// reordered. Works on any Store: the live one (the Verify RPC) or a
// read-only copy of a data directory (`iamctl audit verify --data-dir`).
//
// What it catches: a record whose bytes changed (its hash no longer matches
// the prev_hash of the next record, or a checkpoint), a removed record (a gap
// in the sequence, or records missing below a checkpoint), a record moved to
// another key (its sequence differs from its key's), a forged or altered
// checkpoint (bad signature or another key). What it cannot catch on its
// own: removal of the newest records together with every checkpoint that
// covers them; compare with an exported copy or a SIEM's Tail for that.
//
// Stateless; thread-safe if the store is.
#ifndef IAM_SERVICES_AUDIT_VERIFIER_H_
#define IAM_SERVICES_AUDIT_VERIFIER_H_

#include "absl/status/statusor.h"
#include "proto/iam/v1/audit.pb.h"
#include "services/audit/signer.h"
#include "services/common/store.h"

namespace iam::audit {

// Verifies the whole retained log. An I/O error reading the store is an
// error status; every integrity problem is reported in the response (ok
// false, first_bad_sequence, problem).
absl::StatusOr<iam::v1::VerifyAuditResponse> VerifyAuditLog(
    const Store& store, const AuditPublicKey& key);

}  // namespace iam::audit

#endif  // IAM_SERVICES_AUDIT_VERIFIER_H_
