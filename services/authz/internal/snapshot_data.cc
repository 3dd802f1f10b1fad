#include "services/authz/internal/snapshot_data.h"

#include <algorithm>
#include <utility>

#include "services/audit/audit_mode.h"
#include "services/authz/names.h"

namespace iam::authz::internal {

int32_t Interner::Intern(absl::string_view name) {
  auto [it, inserted] = ids_.try_emplace(name, size());
  if (inserted) names_.emplace_back(name);
  return it->second;
}

int32_t Interner::Find(absl::string_view name) const {
  auto it = ids_.find(name);
  return it == ids_.end() ? -1 : it->second;
}

std::shared_ptr<const PolicyIndex> PolicyIndex::Build(PolicyModel model,
                                                      Interner& perms,
                                                      Interner& roles,
                                                      Interner& scopes) {
  std::shared_ptr<PolicyIndex> idx(new PolicyIndex);
  idx->model_ = std::move(model);
  const PolicyModel& m = idx->model_;

  for (const auto& [name, p] : m.permissions) {
    idx->perm_ids_.emplace(name, perms.Intern(name));
  }
  for (const auto& [name, r] : m.roles) {
    idx->role_ids_.emplace(name, roles.Intern(name));
  }
  idx->scope_ids_.emplace(std::string(kRootScope), scopes.Intern(kRootScope));
  for (const auto& [path, s] : m.scopes) {
    idx->scope_ids_.emplace(path, scopes.Intern(path));
  }
  idx->perm_names_ = perms.names();
  idx->perm_audit_modes_.assign(perms.size(), iam::v1::AUDIT_MODE_ASYNC);
  for (const auto& [name, p] : m.permissions) {
    idx->perm_audit_modes_[idx->perm_ids_.at(name)] =
        static_cast<uint8_t>(audit::EffectiveAuditMode(p));
  }
  idx->role_names_ = roles.names();
  idx->scope_paths_ = scopes.names();

  // Scopes: a parent is a proper prefix of its child, so it comes first in
  // name order and already has its depth. An orphan keeps depth -1 and is
  // covered by nothing.
  idx->scope_parent_.assign(scopes.size(), -1);
  idx->scope_depth_.assign(scopes.size(), -1);
  idx->scope_depth_[kRootScopeId] = 0;
  for (const auto& [path, s] : m.scopes) {
    const int32_t id = idx->scope_ids_.at(path);
    if (!ValidateScopePath(path).ok() || path == kRootScope) continue;
    const int32_t parent = idx->ScopeId(ParentScope(path));
    if (parent < 0 || idx->scope_depth_[parent] < 0) continue;
    idx->scope_parent_[id] = parent;
    idx->scope_depth_[id] = idx->scope_depth_[parent] + 1;
  }

  // Roles: effective permissions in post-order over inheritance, iteratively
  // (no recursion on a long chain). A role's own permissions come first, then
  // each inherited role's in declaration order, so a permission's next hop is
  // the first way to it. An edge back onto the stack (a cycle, only possible
  // in a damaged store) is ignored.
  const int32_t n = roles.size();
  idx->effective_.resize(n);
  std::vector<const iam::v1::Role*> proto(n, nullptr);
  for (const auto& [name, r] : m.roles) proto[idx->role_ids_.at(name)] = &r;
  enum State : char { kNew, kActive, kDone };
  std::vector<State> state(n, kNew);
  struct Frame {
    int32_t role;
    int edge;
  };
  std::vector<Frame> stack;
  auto push = [&](int32_t r) {
    state[r] = kActive;
    auto& eff = idx->effective_[r];
    for (const std::string& p : proto[r]->permissions()) {
      const int32_t pid = idx->PermissionId(p);
      if (pid >= 0) eff.try_emplace(pid, r);
    }
    stack.push_back({r, 0});
  };
  for (int32_t root = 0; root < n; ++root) {
    if (proto[root] == nullptr || state[root] != kNew) continue;
    push(root);
    while (!stack.empty()) {
      Frame& top = stack.back();
      const int32_t r = top.role;
      if (top.edge < proto[r]->inherits_size()) {
        const int32_t child = idx->RoleId(proto[r]->inherits(top.edge++));
        if (child >= 0 && state[child] == kNew) push(child);  // invalidates top
        continue;
      }
      auto& eff = idx->effective_[r];
      for (const std::string& c : proto[r]->inherits()) {
        const int32_t child = idx->RoleId(c);
        if (child < 0 || child == r || state[child] != kDone) continue;
        for (const auto& [perm, via] : idx->effective_[child]) {
          eff.try_emplace(perm, child);
        }
      }
      state[r] = kDone;
      stack.pop_back();
    }
  }

  const size_t bits_per_role = static_cast<size_t>(perms.size());
  if (static_cast<size_t>(n) * bits_per_role <= kMaxGrantBits) {
    idx->bits_per_role_ = bits_per_role;
    idx->grant_bits_.assign((n * bits_per_role + 63) / 64 + 1, 0);
    for (int32_t r = 0; r < n; ++r) {
      for (const auto& [perm, via] : idx->effective_[r]) {
        const size_t bit = r * bits_per_role + perm;
        idx->grant_bits_[bit >> 6] |= uint64_t{1} << (bit & 63);
      }
    }
  }
  return idx;
}

std::vector<std::string> PolicyIndex::RolePath(int32_t role, int32_t perm) const {
  std::vector<std::string> path;
  path.reserve(6);  // inheritance is rarely deeper: one allocation
  ForEachRoleOnPath(role, perm,
                    [&](const std::string& name) { path.push_back(name); });
  return path;
}

namespace {

void InsertGrant(Principal& p, BindingPtr b) {
  auto pos = std::lower_bound(
      p.bindings.begin(), p.bindings.end(), b->proto.id(),
      [](const Grant& x, const std::string& k) { return x.id() < k; });
  p.bindings.insert(pos, Grant(std::move(b)));
}

void EraseGrant(Principal& p, absl::string_view id) {
  p.bindings.erase(std::remove_if(p.bindings.begin(), p.bindings.end(),
                                  [&](const Grant& x) { return x.id() == id; }),
                   p.bindings.end());
}

}  // namespace

void SubjectIndex::SetGroup(absl::string_view name, int32_t id,
                            PrincipalPtr group) {
  if (group == nullptr) {
    groups.Erase(name);
  } else {
    groups.Set(name, group);
  }
  if (id >= 0) groups_by_id.Mutable(id) = std::move(group);
}

void SubjectIndex::AddBinding(BindingPtr b) {
  const std::string& subject = b->proto.subject().id();
  if (b->proto.subject().kind() == iam::v1::SUBJECT_KIND_GROUP) {
    const PrincipalPtr* existing = groups.Find(subject);
    auto p = existing ? std::make_shared<Principal>(**existing)
                      : std::make_shared<Principal>();
    InsertGrant(*p, b);
    SetGroup(subject, b->group, std::move(p));
  } else {
    const Principal* existing = people.Find(subject);
    Principal p = existing ? *existing : Principal();
    InsertGrant(p, b);
    people.Set(subject, std::move(p));
  }
  bindings.Insert(std::move(b));
}

bool SubjectIndex::RemoveBinding(absl::string_view id_view) {
  // Copies: the binding may be freed as the indexes drop it.
  const std::string id(id_view);
  const BindingRec* found = bindings.Find(id);
  if (found == nullptr) return false;
  const iam::v1::SubjectKind kind = found->proto.subject().kind();
  const std::string subject = found->proto.subject().id();
  const int32_t group_id = found->group;
  if (kind == iam::v1::SUBJECT_KIND_GROUP) {
    if (const PrincipalPtr* existing = groups.Find(subject)) {
      auto p = std::make_shared<Principal>(**existing);
      EraseGrant(*p, id);
      SetGroup(subject, group_id, p->bindings.empty() ? nullptr : std::move(p));
    }
  } else if (const Principal* existing = people.Find(subject)) {
    Principal p = *existing;
    EraseGrant(p, id);
    if (p.bindings.empty() && !p.synced) {
      people.Erase(subject);
    } else {
      people.Set(subject, std::move(p));
    }
  }
  bindings.Erase(id);
  return true;
}

void SubjectIndex::SetPerson(const iam::v1::SyncSubjectRequest& subject,
                             absl::InlinedVector<int32_t, 4> group_ids) {
  const Principal* existing = people.Find(subject.person_id());
  Principal p = existing ? *existing : Principal();
  p.synced = true;
  p.status = subject.status();
  std::sort(group_ids.begin(), group_ids.end());
  group_ids.erase(std::unique(group_ids.begin(), group_ids.end()),
                  group_ids.end());
  p.groups = std::move(group_ids);
  people.Set(subject.person_id(), std::move(p));
}

}  // namespace iam::authz::internal
