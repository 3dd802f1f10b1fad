// The data behind an AuthzSnapshot, split so that writes share what they do
// not change:
//  - PolicyIndex: permissions, roles and scopes, interned to dense ints, with
//    each role's effective permission set precomputed. Rebuilt on policy
//    writes only.
//  - SubjectIndex: people (status, groups, bindings), groups (bindings) and
//    all bindings by id, in copy-on-write containers, so that a binding or
//    subject write clones a few small parts.
// Everything here is immutable once published. Internal to the engine.
#ifndef IAM_SERVICES_AUTHZ_INTERNAL_SNAPSHOT_DATA_H_
#define IAM_SERVICES_AUTHZ_INTERNAL_SNAPSHOT_DATA_H_

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "proto/iam/v1/authz.pb.h"
#include "proto/iam/v1/policy.pb.h"
#include "services/authz/internal/cow_map.h"

namespace iam::authz::internal {

// Names to dense ids, stable for the engine's lifetime: a name keeps its id
// when it is deleted and declared again, so bindings need no renumbering when
// the policy is rebuilt. Owned by the engine's writer.
class Interner {
 public:
  int32_t Intern(absl::string_view name);
  // -1 if never interned.
  int32_t Find(absl::string_view name) const;
  int32_t size() const { return static_cast<int32_t>(names_.size()); }
  const std::vector<std::string>& names() const { return names_; }

 private:
  absl::flat_hash_map<std::string, int32_t> ids_;
  std::vector<std::string> names_;
};

// The declared policy objects by name, in name order.
struct PolicyModel {
  std::map<std::string, iam::v1::Permission, std::less<>> permissions;
  std::map<std::string, iam::v1::Role, std::less<>> roles;
  std::map<std::string, iam::v1::Scope, std::less<>> scopes;  // never "/"
};

class PolicyIndex {
 public:
  static constexpr int32_t kRootScopeId = 0;

  // REQUIRES: scopes->Find("/") == kRootScopeId. The interners gain the
  // model's names. Tolerates dangling references and cycles (they grant
  // nothing), so that a damaged store still opens and fails closed.
  static std::shared_ptr<const PolicyIndex> Build(PolicyModel model,
                                                  Interner& perms,
                                                  Interner& roles,
                                                  Interner& scopes);

  const PolicyModel& model() const { return model_; }

  // Ids of declared objects only; -1 if not declared.
  int32_t PermissionId(absl::string_view name) const {
    return Lookup(perm_ids_, name);
  }
  int32_t RoleId(absl::string_view name) const { return Lookup(role_ids_, name); }
  // "/" -> kRootScopeId.
  int32_t ScopeId(absl::string_view path) const {
    return Lookup(scope_ids_, path);
  }

  const std::string& PermissionName(int32_t id) const { return perm_names_[id]; }
  const std::string& RoleName(int32_t id) const { return role_names_[id]; }
  const std::string& ScopePath(int32_t id) const { return scope_paths_[id]; }

  // Whether a binding at `ancestor` covers `scope` (itself or below).
  // REQUIRES: `scope` is declared; `ancestor` any interned id.
  bool Covers(int32_t ancestor, int32_t scope) const {
    if (ancestor < 0 || ancestor >= static_cast<int32_t>(scope_depth_.size())) {
      return false;
    }
    const int32_t d = scope_depth_[ancestor];
    if (d < 0) return false;
    while (scope_depth_[scope] > d) scope = scope_parent_[scope];
    return scope == ancestor;
  }

  // Whether `role` grants `perm`, directly or by inheritance. One bit test
  // when the role x permission matrix is small enough to keep.
  bool Grants(int32_t role, int32_t perm) const {
    if (grant_bits_.empty()) return Via(role, perm) >= 0;
    if (role < 0 || role >= static_cast<int32_t>(effective_.size())) return false;
    const size_t bit = static_cast<size_t>(role) * bits_per_role_ + perm;
    return (grant_bits_[bit >> 6] >> (bit & 63)) & 1;
  }

  // The role from which `role` gets `perm` next: `role` itself when it holds
  // it directly; -1 when `role` does not grant it.
  int32_t Via(int32_t role, int32_t perm) const {
    if (role < 0 || role >= static_cast<int32_t>(effective_.size())) return -1;
    const auto& eff = effective_[role];
    auto it = eff.find(perm);
    return it == eff.end() ? -1 : it->second;
  }
  // Every permission `role` grants, with the next hop (see Via).
  const absl::flat_hash_map<int32_t, int32_t>& Effective(int32_t role) const {
    return effective_[role];
  }
  // Role names from `role` down to the role that holds `perm` directly.
  // REQUIRES: Via(role, perm) >= 0.
  std::vector<std::string> RolePath(int32_t role, int32_t perm) const;
  // fn(const std::string& role_name) along the same path, allocating nothing.
  template <typename Fn>
  void ForEachRoleOnPath(int32_t role, int32_t perm, Fn fn) const {
    fn(role_names_[role]);
    for (int32_t hops = 0; hops < role_count(); ++hops) {
      const int32_t via = Via(role, perm);
      if (via < 0 || via == role) break;
      role = via;
      fn(role_names_[role]);
    }
  }

  int32_t role_count() const { return static_cast<int32_t>(role_names_.size()); }

  // How decisions on a permission are audited (audit::EffectiveAuditMode of
  // its declaration); ASYNC for an undeclared one (its checks all deny).
  iam::v1::AuditMode AuditMode(int32_t perm) const {
    if (perm < 0 || perm >= static_cast<int32_t>(perm_audit_modes_.size())) {
      return iam::v1::AUDIT_MODE_ASYNC;
    }
    return static_cast<iam::v1::AuditMode>(perm_audit_modes_[perm]);
  }

 private:
  PolicyIndex() = default;

  using NameTable =
      absl::flat_hash_map<std::string, int32_t, StringKeyHash, StringKeyEq>;
  static int32_t Lookup(const NameTable& ids, absl::string_view name) {
    auto it = ids.find(name);
    return it == ids.end() ? -1 : it->second;
  }

  PolicyModel model_;
  NameTable perm_ids_, role_ids_, scope_ids_;
  std::vector<std::string> perm_names_, role_names_, scope_paths_;
  std::vector<uint8_t> perm_audit_modes_;  // by permission id
  std::vector<int32_t> scope_parent_;  // -1 for the root and undeclared
  std::vector<int32_t> scope_depth_;   // root 0; -1 for undeclared
  // Indexed by role id (undeclared roles: empty): perm id -> via role id.
  std::vector<absl::flat_hash_map<int32_t, int32_t>> effective_;
  // The same membership as a bit matrix, role-major, when it is at most
  // kMaxGrantBits; empty otherwise.
  static constexpr size_t kMaxGrantBits = size_t{64} << 20;  // 8 MiB
  std::vector<uint64_t> grant_bits_;
  size_t bits_per_role_ = 0;
};

// Unix seconds at which a binding stops granting, for one that never expires.
inline constexpr int64_t kNeverExpires = std::numeric_limits<int64_t>::max();

// A role binding with its names interned.
struct BindingRec {
  iam::v1::RoleBinding proto;
  int32_t role = -1;
  int32_t scope = -1;
  int32_t group = -1;  // group bindings: the group's interned id
  // Grants while the unix second of now (rounded down) is below it.
  int64_t expires_unix = kNeverExpires;
};
using BindingPtr = std::shared_ptr<const BindingRec>;

// A binding as a principal holds it: the fields decisions test, inline, so
// that a check reads one contiguous array and touches the binding itself only
// to report it.
struct Grant {
  int32_t role;
  int32_t scope;
  int64_t expires_unix;
  BindingPtr binding;

  explicit Grant(BindingPtr b)
      : role(b->role),
        scope(b->scope),
        expires_unix(b->expires_unix),
        binding(std::move(b)) {}
  bool ExpiredAt(int64_t now_unix) const { return now_unix >= expires_unix; }
  const std::string& id() const { return binding->proto.id(); }
};

struct BindingIdOf {
  absl::string_view operator()(const BindingRec& b) const { return b.proto.id(); }
};

// A person or a group as decisions see it. The common case (a few groups
// and bindings) is stored inline, so that a check finds everything it needs
// about a person in the hash table slot it probes.
struct Principal {
  bool synced = false;  // people: SyncSubjects has described them
  iam::v1::PersonStatus status = iam::v1::PERSON_STATUS_UNSPECIFIED;
  absl::InlinedVector<int32_t, 4> groups;  // people only: group ids, sorted
  absl::InlinedVector<Grant, 3> bindings;  // sorted by id
};
using PrincipalPtr = std::shared_ptr<const Principal>;

// Group names are interned to ids by the engine's writer (stable for the
// engine's life), so that a check reaches a person's groups by index.
struct SubjectIndex {
  CowShardedMap<Principal> people;     // by person id; values inline
  CowShardedMap<PrincipalPtr> groups;  // by group name; groups with bindings
  CowVector<PrincipalPtr> groups_by_id;  // the same groups; null elsewhere
  CowOrderedList<BindingRec, BindingIdOf> bindings;  // by binding id

  // Adds `b` to the list and to its subject's principal.
  // REQUIRES: b->group is the group's id for a group binding.
  void AddBinding(BindingPtr b);
  // Removes it from both; false if no binding has that id.
  bool RemoveBinding(absl::string_view id);
  // Sets a person's status and groups, keeping their bindings.
  // REQUIRES: group_ids are the interned ids of subject.groups().
  void SetPerson(const iam::v1::SyncSubjectRequest& subject,
                 absl::InlinedVector<int32_t, 4> group_ids);

  const Principal* Group(int32_t id) const {
    return static_cast<size_t>(id) < groups_by_id.size()
               ? groups_by_id[id].get()
               : nullptr;
  }

  // The principal of a subject, or nullptr.
  const Principal* Find(iam::v1::SubjectKind kind, absl::string_view id) const {
    if (kind == iam::v1::SUBJECT_KIND_GROUP) {
      const PrincipalPtr* p = groups.Find(id);
      return p ? p->get() : nullptr;
    }
    return people.Find(id);
  }

 private:
  // Sets or (with nullptr) erases a group's principal in both indexes.
  void SetGroup(absl::string_view name, int32_t id, PrincipalPtr group);
};

}  // namespace iam::authz::internal

#endif  // IAM_SERVICES_AUTHZ_INTERNAL_SNAPSHOT_DATA_H_
