// The authorization engine: permissions, roles (with inheritance), scopes,
// role bindings and the subjects they apply to; and the decisions over them.
//
// Decisions read an AuthzSnapshot: immutable, so any number of threads read it
// without locks, and every answer from one snapshot is at one revision.
// Writes go through AuthzEngine: one at a time, validated against the current
// state, committed to the Store (synced) and only then published as a new
// snapshot. A write that fails changes nothing. Once a write returns, every
// snapshot() and Check() sees it: revocation is immediate.
//
// Decisions fail closed: an unknown person, an inactive person, an unknown
// permission or scope, or no unexpired binding that grants the permission at
// the scope or above it, all deny, with a reason.
//
// Persistence: column kAuthzColumn, serialized protos under "perm/<name>",
// "role/<name>", "scope/<path>", "bind/<id>", "subj/<person id>", and the
// binding id counter under "meta/next_binding_id".
//
// Thread-safe: AuthzSnapshot is immutable; AuthzEngine's methods may be called
// from any thread. A Decision is a value that any thread may read (not
// concurrently with a write to it); its text is formatted only on demand.
#ifndef IAM_SERVICES_AUTHZ_ENGINE_H_
#define IAM_SERVICES_AUTHZ_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/iam/v1/authz.pb.h"
#include "proto/iam/v1/policy.pb.h"
#include "services/authz/internal/snapshot_data.h"
#include "services/common/clock.h"
#include "services/common/store.h"

namespace iam::authz {

// Input bounds enforced by the engine's writes.
inline constexpr size_t kMaxIdLength = 200;        // subject ids, groups, caller
inline constexpr size_t kMaxReasonLength = 500;    // characters (UTF-8)
inline constexpr int kMaxGroupsPerSubject = 100;
inline constexpr int kMaxBatchSize = 10000;        // bindings or subjects per call

// What made a decision come out as it did.
enum class DecisionCode : uint8_t {
  kUndecided,          // a default-constructed Decision (denies)
  kAllowed,            // a binding grants the permission at the scope
  kUnknownPerson,      // SyncSubjects never described the person
  kInactivePerson,     // the person is pending, suspended or has left
  kUnknownPermission,  // the permission is not declared
  kUnknownScope,       // the scope is not declared
  kNoBinding,          // no binding grants it at the scope or above it
  kBindingExpired,     // ... one would, but it has expired
};

// The why of a Decision: a code plus references into the snapshot that made
// it (the binding, the role and the permission it found), so that a check
// allocates nothing and formats nothing. The sentence that responses, audit
// records and errors carry is built only when asked for, by str():
//   "allowed by binding rb-1 (person p1): role a -> b at scope site/sz"
//   "denied: unknown person \"p9\"" (and one sentence per other code).
// Validity: a reason from AuthzSnapshot::Check refers into that snapshot;
// read it only while the snapshot lives (hold its shared_ptr). A reason from
// AuthzEngine::Check keeps its snapshot alive itself.
class DecisionReason {
 public:
  DecisionCode code() const { return code_; }
  // The sentence; "" for kUndecided.
  std::string str() const;
  // Implicit, so that a reason stores into a string field or variable as
  // the string it used to be (`record.set_reason(std::move(d.reason))`).
  operator std::string() const { return str(); }  // NOLINT

 private:
  friend class AuthzSnapshot;
  friend class AuthzEngine;
  friend struct Decision;

  DecisionCode code_ = DecisionCode::kUndecided;
  iam::v1::PersonStatus status_ = iam::v1::PERSON_STATUS_UNSPECIFIED;
  int32_t perm_ = -1;   // kAllowed, kNoBinding, kBindingExpired
  int32_t scope_ = -1;  // the checked scope: kNoBinding, kBindingExpired
  // kAllowed: the granting binding; kBindingExpired: the expired one.
  const internal::BindingRec* binding_ = nullptr;
  const internal::PolicyIndex* policy_ = nullptr;
  // The unknown name or the inactive person's id, as the caller gave it:
  // the only copy, and only on those denials.
  std::string name_;
  // Set by AuthzEngine::Check only; see its comment.
  std::shared_ptr<const void> keep_alive_;
};

struct Decision {
  bool allowed = false;
  DecisionReason reason;
  Revision revision = 0;
  // How this decision must be audited: the permission's audit mode.
  iam::v1::AuditMode audit_mode = iam::v1::AUDIT_MODE_ASYNC;

  // When allowed: the id of the binding that allowed it; "" otherwise.
  // Valid as long as `reason` is (see DecisionReason).
  const std::string& binding_id() const;
  // When allowed: the bound role -> ... -> the role that holds the
  // permission directly; empty otherwise. Allocates: for responses.
  std::vector<std::string> role_path() const;
};

class AuthzSnapshot {  // immutable, thread-safe
 public:
  Revision revision() const { return revision_; }

  // Never errors: denies with a reason. Scopes are exact paths ("/" is the
  // root; "" is unknown). Allocates nothing (but, on an unknown-name or
  // inactive-person denial, a copy of that name when it is longer than 15
  // bytes): the decision refers into this snapshot, so read its reason,
  // binding id and role path while you hold the snapshot.
  Decision Check(absl::string_view person_id, absl::string_view permission,
                 absl::string_view scope, absl::Time now) const;

  // Every (permission, binding) pair that grants the person something now,
  // sorted by permission, then scope, then binding id; with a non-empty
  // `scope`, only bindings at that scope or above it. An inactive person
  // holds nothing (empty list).
  // NOT_FOUND for unknown person; INVALID_ARGUMENT/NOT_FOUND for a bad/unknown
  // scope when non-empty.
  absl::StatusOr<std::vector<iam::v1::GrantedPermission>> ListPermissions(
      absl::string_view person_id, absl::string_view scope,
      absl::Time now) const;

  // Active people allowed, sorted. NOT_FOUND for unknown permission/scope
  // (INVALID_ARGUMENT for a malformed scope, including "").
  absl::StatusOr<std::vector<std::string>> WhoCan(absl::string_view permission,
                                                  absl::string_view scope,
                                                  absl::Time now) const;

  // Permissions, roles, scopes, sorted by name ("/" is not listed).
  iam::v1::PolicyDocument Policy() const;

  // Bindings matching the filter (empty fields = any: subject kind
  // UNSPECIFIED and/or empty id), ordered by id, starting after `after_id`,
  // at most `limit` (<= 0: no limit). `scope` matches exactly.
  std::vector<iam::v1::RoleBinding> ListBindings(
      const iam::v1::Subject& subject, absl::string_view role,
      absl::string_view scope, absl::string_view after_id, int limit) const;

  // Whether SyncSubjects has described this person.
  bool HasSubject(absl::string_view person_id) const;

  // The binding with this id, or nullptr. Valid while the snapshot lives.
  const iam::v1::RoleBinding* FindBinding(absl::string_view id) const {
    const internal::BindingRec* b = subjects_->bindings.Find(id);
    return b == nullptr ? nullptr : &b->proto;
  }

  // How decisions on `permission` must be audited (see AuditMode in
  // policy.proto); ASYNC for an unknown permission. One hash lookup.
  iam::v1::AuditMode AuditModeOf(absl::string_view permission) const {
    return policy_->AuditMode(policy_->PermissionId(permission));
  }

 private:
  friend class AuthzEngine;
  AuthzSnapshot(Revision revision,
                std::shared_ptr<const internal::PolicyIndex> policy,
                std::shared_ptr<const internal::SubjectIndex> subjects)
      : revision_(revision),
        policy_(std::move(policy)),
        subjects_(std::move(subjects)) {}

  // The bindings that apply to a person: their own, then their groups'.
  template <typename Fn>
  void ForEachBindingOf(const internal::Principal& person, Fn fn) const;

  const Revision revision_;
  const std::shared_ptr<const internal::PolicyIndex> policy_;
  const std::shared_ptr<const internal::SubjectIndex> subjects_;
};

struct ApplyResult {
  std::vector<iam::v1::PolicyChange> changes;
  Revision revision = 0;  // 0 for a dry run or no change
};

// How the audit record of a policy apply names its diff: "3 changes".
std::string ChangeCount(size_t changes);

class AuthzEngine {
 public:
  // Loads the state from `store` and publishes the first snapshot at the
  // store's current revision. DATA_LOSS if a record does not parse.
  // REQUIRES: store and clock outlive the engine.
  static absl::StatusOr<std::unique_ptr<AuthzEngine>> Open(Store* store,
                                                           const Clock* clock);

  AuthzEngine(const AuthzEngine&) = delete;
  AuthzEngine& operator=(const AuthzEngine&) = delete;

  // The newest snapshot. Cheap: a shared pointer copy.
  std::shared_ptr<const AuthzSnapshot> snapshot() const;

  // On the current snapshot, at the clock's now. The decision keeps that
  // snapshot alive for as long as it (or a copy) lives, through a reference
  // count private to the calling thread: checkers share no written cache
  // line.
  Decision Check(absl::string_view person_id, absl::string_view permission,
                 absl::string_view scope) const;

  // Each write returns the revision it committed at. A rejected or failed
  // write changes nothing. Each commits through `commit` when given (the
  // service's audited commit: the change and its audit record in one
  // synced write), else through the store.

  // Creates or replaces. INVALID_ARGUMENT for a bad name.
  absl::StatusOr<Revision> PutPermission(const iam::v1::Permission& p,
                                         const CommitFn& commit = nullptr);
  // NOT_FOUND; FAILED_PRECONDITION if a role grants it.
  absl::StatusOr<Revision> DeletePermission(absl::string_view name,
                                            const CommitFn& commit = nullptr);
  // Creates or replaces. Unknown permissions/roles NOT_FOUND; a cycle
  // INVALID_ARGUMENT naming the path (a -> b -> a); bad names or repeated
  // entries INVALID_ARGUMENT.
  absl::StatusOr<Revision> PutRole(const iam::v1::Role& r,
                                   const CommitFn& commit = nullptr);
  // NOT_FOUND; FAILED_PRECONDITION if inherited or bound.
  absl::StatusOr<Revision> DeleteRole(absl::string_view name,
                                      const CommitFn& commit = nullptr);
  // Creates or replaces. INVALID_ARGUMENT for a bad path or "/"; the parent
  // must exist (FAILED_PRECONDITION).
  absl::StatusOr<Revision> PutScope(const iam::v1::Scope& s,
                                    const CommitFn& commit = nullptr);
  // NOT_FOUND; INVALID_ARGUMENT for "/"; FAILED_PRECONDITION if it has
  // children or bindings.
  absl::StatusOr<Revision> DeleteScope(absl::string_view path,
                                       const CommitFn& commit = nullptr);

  // Assigns id, created_by=caller, created_at=now. reason required (1-500
  // chars); role and scope must exist (NOT_FOUND); subject kind/id required;
  // expires_at_unix in the past (or now) -> INVALID_ARGUMENT. 1-10,000
  // bindings. Atomic: all or nothing. Errors name the index: "bindings[3]: ".
  // A set `commit` is told the new ids (comma-separated, in order).
  absl::StatusOr<std::pair<std::vector<iam::v1::RoleBinding>, Revision>>
  CreateBindings(std::vector<iam::v1::RoleBinding> bindings,
                 absl::string_view caller,
                 const NamedCommitFn& commit = nullptr);
  // NOT_FOUND.
  absl::StatusOr<Revision> DeleteBinding(absl::string_view id,
                                         const CommitFn& commit = nullptr);
  // Removes every binding of the subject. With none, commits nothing and
  // returns the current revision.
  absl::StatusOr<Revision> DeleteBindingsOf(const iam::v1::Subject& subject,
                                            const CommitFn& commit = nullptr);
  // Upserts status and groups (1-10,000 subjects; a person listed twice:
  // the last wins). Status must not be UNSPECIFIED.
  //
  // When every subject already has exactly that status and those groups,
  // nothing is written (`*changed` false): the current snapshot is
  // republished at the store's current revision, which it truthfully
  // reflects (every authz write goes through this engine, and none is in
  // flight while write_mu_ is held). A caller that just committed elsewhere
  // thus gets a revision at least its own without another synced write.
  absl::StatusOr<Revision> SyncSubjects(
      const std::vector<iam::v1::SyncSubjectRequest>& subjects,
      bool* changed = nullptr, const CommitFn& commit = nullptr);

  // Replaces permissions/roles/scopes with doc (validated with
  // ValidatePolicy; first issue -> INVALID_ARGUMENT); FAILED_PRECONDITION if
  // it would remove a role or scope that a binding uses (also on a dry run).
  // The diff is returned sorted by object type (permission, role, scope) and
  // name; dry_run or an empty diff writes nothing (revision 0). A set
  // `commit` is told the number of changes ("3 changes").
  absl::StatusOr<ApplyResult> ApplyPolicy(const iam::v1::PolicyDocument& doc,
                                          bool dry_run,
                                          const NamedCommitFn& commit = nullptr);

 private:
  AuthzEngine(Store* store, const Clock* clock);

  absl::Status Load();

  // Commits `batch` (through `commit` if set), then publishes a snapshot of
  // `policy` and `subjects` at the committed revision.
  absl::StatusOr<Revision> CommitAndPublish(
      const WriteBatch& batch,
      std::shared_ptr<const internal::PolicyIndex> policy,
      std::shared_ptr<const internal::SubjectIndex> subjects,
      const CommitFn& commit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Makes a snapshot of `policy` and `subjects` at `revision` the current
  // one. REQUIRES: write_mu_ held; the store holds that state at `revision`.
  void Publish(Revision revision,
               std::shared_ptr<const internal::PolicyIndex> policy,
               std::shared_ptr<const internal::SubjectIndex> subjects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Commits a policy change: the model is indexed before the commit so
  // nothing can fail after it.
  absl::StatusOr<Revision> CommitPolicy(internal::PolicyModel model,
                                        const WriteBatch& batch,
                                        const CommitFn& commit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::InlinedVector<int32_t, 4> InternGroups(
      const iam::v1::SyncSubjectRequest& subject)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  std::shared_ptr<const internal::PolicyIndex> BuildIndex(
      internal::PolicyModel model) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  // The snapshot the writer builds on (the newest one).
  std::shared_ptr<const AuthzSnapshot> current() const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    return snapshot();
  }

  Store* const store_;
  const Clock* const clock_;

  // Serializes writes; held across validation, commit and publication.
  absl::Mutex write_mu_;
  internal::Interner perm_names_ ABSL_GUARDED_BY(write_mu_);
  internal::Interner role_names_ ABSL_GUARDED_BY(write_mu_);
  internal::Interner scope_paths_ ABSL_GUARDED_BY(write_mu_);
  internal::Interner group_names_ ABSL_GUARDED_BY(write_mu_);
  int64_t next_binding_id_ ABSL_GUARDED_BY(write_mu_) = 1;

  mutable absl::Mutex snapshot_mu_;
  std::shared_ptr<const AuthzSnapshot> snapshot_ ABSL_GUARDED_BY(snapshot_mu_);

  // Check() keeps a per-thread copy of the snapshot pointer and takes
  // snapshot_mu_ only when published_revision_ (stored after each swap,
  // before the write returns) says it is stale: readers share no written
  // cache line on the hot path. An idle thread's copy keeps its snapshot
  // alive until that thread checks again or exits.
  const uint64_t instance_id_;  // unique in the process, keys the copies
  std::atomic<Revision> published_revision_{-1};
};

}  // namespace iam::authz

#endif  // IAM_SERVICES_AUTHZ_ENGINE_H_
