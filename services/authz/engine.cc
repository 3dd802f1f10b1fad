#include "services/authz/engine.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <initializer_list>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/types/span.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/message_differencer.h"
#include "proto/iam/v1/common.pb.h"
#include "services/authz/names.h"
#include "services/authz/policy_validator.h"
#include "services/common/status_macros.h"

namespace iam::authz {
namespace {

using internal::BindingRec;
using internal::Grant;
using internal::PolicyIndex;
using internal::PolicyModel;
using internal::Principal;
using internal::SubjectIndex;

constexpr absl::string_view kPermPrefix = "perm/";
constexpr absl::string_view kRolePrefix = "role/";
constexpr absl::string_view kScopePrefix = "scope/";
constexpr absl::string_view kBindPrefix = "bind/";
constexpr absl::string_view kSubjPrefix = "subj/";
constexpr absl::string_view kNextBindingIdKey = "meta/next_binding_id";
constexpr absl::string_view kBindingIdPrefix = "rb-";
// How many offending names an error message lists.
constexpr int kMaxNamedInError = 5;

// The parts joined, in one allocation and one memcpy per part: decision
// reasons are formatted for every RPC response.
std::string Concat(absl::Span<const absl::string_view> parts) {
  size_t size = 0;
  for (absl::string_view p : parts) size += p.size();
  std::string out(size, '\0');
  char* at = &out[0];
  for (absl::string_view p : parts) {
    if (!p.empty()) std::memcpy(at, p.data(), p.size());
    at += p.size();
  }
  return out;
}

// "allowed by binding rb-1 (person p1): role a -> b at scope site/sz".
std::string AllowReason(const BindingRec& b, const PolicyIndex& policy,
                        int32_t perm) {
  const iam::v1::RoleBinding& p = b.proto;
  absl::InlinedVector<absl::string_view, 24> parts = {
      "allowed by binding ", p.id(),
      p.subject().kind() == iam::v1::SUBJECT_KIND_GROUP ? " (group " : " (person ",
      p.subject().id(), "): role "};
  bool first = true;
  policy.ForEachRoleOnPath(b.role, perm, [&](const std::string& role) {
    if (!first) parts.push_back(" -> ");
    first = false;
    parts.push_back(role);
  });
  parts.push_back(" at scope ");
  parts.push_back(p.scope());
  return Concat(parts);
}

std::string Key(absl::string_view prefix, absl::string_view name) {
  return absl::StrCat(prefix, name);
}

// Ids sort in creation order: fixed width.
std::string BindingId(int64_t n) {
  return absl::StrFormat("%s%012d", kBindingIdPrefix, n);
}

size_t Utf8Length(absl::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

absl::Status CheckId(absl::string_view what, absl::string_view id) {
  if (id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is required"));
  }
  if (id.size() > kMaxIdLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " is ", id.size(), " bytes long; at most ", kMaxIdLength,
        " are allowed"));
  }
  for (char c : id) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " ", QuoteForMessage(id), " contains a control character"));
    }
  }
  return absl::OkStatus();
}

absl::Status WithPrefix(absl::string_view prefix, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(prefix, s.message()));
}

std::string JoinSome(const std::vector<std::string>& names, size_t total) {
  std::string out = absl::StrJoin(names, ", ");
  if (total > names.size()) {
    absl::StrAppend(&out, " and ", total - names.size(), " more");
  }
  return out;
}

template <typename Proto>
absl::Status ParseRecord(absl::string_view key, absl::string_view value,
                         Proto& out) {
  if (!out.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError(absl::StrCat(
        "authz record ", QuoteForMessage(key), " does not parse as ",
        out.GetTypeName()));
  }
  return absl::OkStatus();
}

std::shared_ptr<const BindingRec> MakeBindingRec(iam::v1::RoleBinding proto,
                                                 int32_t role, int32_t scope,
                                                 internal::Interner& groups) {
  auto rec = std::make_shared<BindingRec>();
  rec->role = role;
  rec->scope = scope;
  if (proto.subject().kind() == iam::v1::SUBJECT_KIND_GROUP) {
    rec->group = groups.Intern(proto.subject().id());
  }
  rec->expires_unix = proto.expires_at_unix() == 0 ? internal::kNeverExpires
                                                    : proto.expires_at_unix();
  rec->proto = std::move(proto);
  return rec;
}

// The ids of up to kMaxNamedInError bindings for which pred holds, and
// their number.
template <typename Pred>
std::pair<std::vector<std::string>, size_t> BindingsWhere(
    const SubjectIndex& subjects, Pred pred) {
  std::pair<std::vector<std::string>, size_t> out;
  subjects.bindings.ForEachAfter("", [&](const BindingRec& b) {
    if (pred(b)) {
      if (out.first.size() < kMaxNamedInError) out.first.push_back(b.proto.id());
      ++out.second;
    }
    return true;
  });
  return out;
}

// A path role -> ... -> role through inherits, if `role` (as it would be
// after the change, in `roles`) reaches itself. Breadth first: the shortest.
std::vector<std::string> FindCycle(
    const std::map<std::string, iam::v1::Role, std::less<>>& roles,
    const std::string& role) {
  absl::flat_hash_map<std::string, std::string> prev;  // node -> predecessor
  std::deque<std::string> queue = {role};
  while (!queue.empty()) {
    std::string node = std::move(queue.front());
    queue.pop_front();
    auto it = roles.find(node);
    if (it == roles.end()) continue;
    for (const std::string& next : it->second.inherits()) {
      if (next == role) {
        std::vector<std::string> path = {role};
        for (std::string at = node; at != role; at = prev.at(at)) {
          path.push_back(at);
        }
        std::reverse(path.begin() + 1, path.end());
        path.push_back(role);
        return path;
      }
      if (prev.try_emplace(next, node).second) queue.push_back(next);
    }
  }
  return {};
}

std::vector<std::string> SetDifference(
    const google::protobuf::RepeatedPtrField<std::string>& a,
    const google::protobuf::RepeatedPtrField<std::string>& b) {
  absl::flat_hash_set<absl::string_view> in_b(b.begin(), b.end());
  std::vector<std::string> out;
  for (const std::string& s : a) {
    if (!in_b.contains(s)) out.push_back(s);
  }
  return out;
}

iam::v1::PolicyChange MakeChange(iam::v1::PolicyChange::Kind kind,
                                 absl::string_view type, absl::string_view name,
                                 std::string detail) {
  iam::v1::PolicyChange c;
  c.set_kind(kind);
  c.set_object_type(std::string(type));
  c.set_name(std::string(name));
  c.set_detail(std::move(detail));
  return c;
}

std::string DescriptionChange(const std::string& from, const std::string& to) {
  return absl::StrCat("description ", QuoteForMessage(from), " -> ",
                      QuoteForMessage(to));
}

// Field by field, so that a field added to the schema later still counts.
bool SameMessage(const google::protobuf::Message& a,
                 const google::protobuf::Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

std::string PermissionChange(const iam::v1::Permission& from,
                             const iam::v1::Permission& to) {
  std::vector<std::string> parts;
  if (from.description() != to.description()) {
    parts.push_back(DescriptionChange(from.description(), to.description()));
  }
  if (from.audit_mode() != to.audit_mode()) {
    parts.push_back(absl::StrCat("audit_mode ",
                                 iam::v1::AuditMode_Name(from.audit_mode()),
                                 " -> ", iam::v1::AuditMode_Name(to.audit_mode())));
  }
  if (parts.empty()) parts.push_back("other fields changed");
  return absl::StrJoin(parts, "; ");
}

std::string RoleSummary(const iam::v1::Role& r) {
  std::string out = absl::StrCat("grants ", r.permissions_size(),
                                 " permission(s) directly");
  if (r.inherits_size() > 0) {
    absl::StrAppend(&out, ", inherits ", absl::StrJoin(r.inherits(), ", "));
  }
  return out;
}

std::string RoleChange(const iam::v1::Role& from, const iam::v1::Role& to) {
  std::vector<std::string> parts;
  for (const auto& p : SetDifference(to.permissions(), from.permissions())) {
    parts.push_back(absl::StrCat("+permission ", p));
  }
  for (const auto& p : SetDifference(from.permissions(), to.permissions())) {
    parts.push_back(absl::StrCat("-permission ", p));
  }
  for (const auto& r : SetDifference(to.inherits(), from.inherits())) {
    parts.push_back(absl::StrCat("+inherits ", r));
  }
  for (const auto& r : SetDifference(from.inherits(), to.inherits())) {
    parts.push_back(absl::StrCat("-inherits ", r));
  }
  if (from.description() != to.description()) {
    parts.push_back(DescriptionChange(from.description(), to.description()));
  }
  if (!std::equal(from.requires().begin(), from.requires().end(),
                  to.requires().begin(), to.requires().end())) {
    parts.push_back("requires changed");
  }
  if (parts.empty()) parts.push_back("order of entries or other fields");
  return absl::StrJoin(parts, "; ");
}

// Walks two name-ordered maps together, calling add/remove/change.
template <typename Map, typename Same, typename OnChange>
void DiffMaps(const Map& from, const Map& to, Same same, OnChange on) {
  auto a = from.begin();
  auto b = to.begin();
  while (a != from.end() || b != to.end()) {
    if (b == to.end() || (a != from.end() && a->first < b->first)) {
      on(iam::v1::PolicyChange::KIND_REMOVE, a->first, &a->second, nullptr);
      ++a;
    } else if (a == from.end() || b->first < a->first) {
      on(iam::v1::PolicyChange::KIND_ADD, b->first, nullptr, &b->second);
      ++b;
    } else {
      if (!same(a->second, b->second)) {
        on(iam::v1::PolicyChange::KIND_CHANGE, a->first, &a->second, &b->second);
      }
      ++a;
      ++b;
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Decision

std::string DecisionReason::str() const {
  switch (code_) {
    case DecisionCode::kUndecided:
      return "";
    case DecisionCode::kAllowed:
      return AllowReason(*binding_, *policy_, perm_);
    case DecisionCode::kUnknownPerson:
      return absl::StrCat("denied: unknown person ", QuoteForMessage(name_));
    case DecisionCode::kInactivePerson:
      return absl::StrCat("denied: person ", QuoteForMessage(name_),
                          " is not active (",
                          iam::v1::PersonStatus_Name(status_), ")");
    case DecisionCode::kUnknownPermission:
      return absl::StrCat("denied: unknown permission ", QuoteForMessage(name_));
    case DecisionCode::kUnknownScope:
      return absl::StrCat("denied: unknown scope ", QuoteForMessage(name_));
    case DecisionCode::kNoBinding:
    case DecisionCode::kBindingExpired: {
      // The checked names are the declared ones: lookups match exactly.
      std::string out = Concat({"denied: no role binding grants ",
                                policy_->PermissionName(perm_), " at ",
                                policy_->ScopePath(scope_)});
      if (code_ == DecisionCode::kBindingExpired) {
        absl::StrAppend(&out, " (binding ", binding_->proto.id(),
                        " would, but expired at unix ",
                        binding_->proto.expires_at_unix(), ")");
      }
      return out;
    }
  }
  return "";
}

const std::string& Decision::binding_id() const {
  static const std::string* const kNone = new std::string();
  return reason.code_ == DecisionCode::kAllowed ? reason.binding_->proto.id()
                                                : *kNone;
}

std::vector<std::string> Decision::role_path() const {
  if (reason.code_ != DecisionCode::kAllowed) return {};
  return reason.policy_->RolePath(reason.binding_->role, reason.perm_);
}

// ---------------------------------------------------------------------------
// AuthzSnapshot

template <typename Fn>
void AuthzSnapshot::ForEachBindingOf(const Principal& person, Fn fn) const {
  for (const Grant& g : person.bindings) {
    if (!fn(g)) return;
  }
  for (const int32_t id : person.groups) {
    const Principal* group = subjects_->Group(id);
    if (group == nullptr) continue;
    for (const Grant& g : group->bindings) {
      if (!fn(g)) return;
    }
  }
}

Decision AuthzSnapshot::Check(absl::string_view person_id,
                              absl::string_view permission,
                              absl::string_view scope, absl::Time now) const {
  Decision d;
  d.revision = revision_;
  DecisionReason& why = d.reason;
  why.policy_ = policy_.get();
  const int32_t perm = policy_->PermissionId(permission);
  d.audit_mode = policy_->AuditMode(perm);
  const Principal* person =
      subjects_->Find(iam::v1::SUBJECT_KIND_PERSON, person_id);
  if (person == nullptr || !person->synced) {
    why.code_ = DecisionCode::kUnknownPerson;
    why.name_.assign(person_id.data(), person_id.size());
    return d;
  }
  if (person->status != iam::v1::PERSON_STATUS_ACTIVE) {
    why.code_ = DecisionCode::kInactivePerson;
    why.status_ = person->status;
    why.name_.assign(person_id.data(), person_id.size());
    return d;
  }
  if (perm < 0) {
    why.code_ = DecisionCode::kUnknownPermission;
    why.name_.assign(permission.data(), permission.size());
    return d;
  }
  const int32_t scope_id = policy_->ScopeId(scope);
  if (scope_id < 0) {
    why.code_ = DecisionCode::kUnknownScope;
    why.name_.assign(scope.data(), scope.size());
    return d;
  }
  why.perm_ = perm;
  const int64_t now_unix = absl::ToUnixSeconds(now);
  const BindingRec* granted = nullptr;
  const BindingRec* expired = nullptr;
  ForEachBindingOf(*person, [&](const Grant& g) {
    if (!policy_->Covers(g.scope, scope_id) || !policy_->Grants(g.role, perm)) {
      return true;
    }
    if (g.ExpiredAt(now_unix)) {
      if (expired == nullptr) expired = g.binding.get();
      return true;
    }
    granted = g.binding.get();
    return false;
  });
  if (granted == nullptr) {
    why.code_ = expired == nullptr ? DecisionCode::kNoBinding
                                   : DecisionCode::kBindingExpired;
    why.scope_ = scope_id;
    why.binding_ = expired;
    return d;
  }
  d.allowed = true;
  why.code_ = DecisionCode::kAllowed;
  why.binding_ = granted;
  return d;
}

absl::StatusOr<std::vector<iam::v1::GrantedPermission>>
AuthzSnapshot::ListPermissions(absl::string_view person_id,
                               absl::string_view scope, absl::Time now) const {
  const Principal* person =
      subjects_->Find(iam::v1::SUBJECT_KIND_PERSON, person_id);
  if (person == nullptr || !person->synced) {
    return absl::NotFoundError(
        absl::StrCat("unknown person ", QuoteForMessage(person_id)));
  }
  int32_t scope_id = -1;
  if (!scope.empty()) {
    RETURN_IF_ERROR(ValidateScopePath(scope));
    scope_id = policy_->ScopeId(scope);
    if (scope_id < 0) {
      return absl::NotFoundError(
          absl::StrCat("scope ", QuoteForMessage(scope), " is not declared"));
    }
  }
  std::vector<iam::v1::GrantedPermission> out;
  if (person->status != iam::v1::PERSON_STATUS_ACTIVE) return out;
  const int64_t now_unix = absl::ToUnixSeconds(now);
  ForEachBindingOf(*person, [&](const Grant& g) {
    const BindingRec& b = *g.binding;
    if (g.ExpiredAt(now_unix) || b.role < 0 || b.role >= policy_->role_count()) {
      return true;
    }
    if (scope_id >= 0 && !policy_->Covers(b.scope, scope_id)) return true;
    for (const auto& [perm, via] : policy_->Effective(b.role)) {
      iam::v1::GrantedPermission g;
      g.set_permission(policy_->PermissionName(perm));
      g.set_scope(b.proto.scope());
      g.set_binding_id(b.proto.id());
      for (std::string& r : policy_->RolePath(b.role, perm)) {
        g.add_role_path(std::move(r));
      }
      g.set_expires_at_unix(b.proto.expires_at_unix());
      out.push_back(std::move(g));
    }
    return true;
  });
  std::sort(out.begin(), out.end(),
            [](const iam::v1::GrantedPermission& a,
               const iam::v1::GrantedPermission& b) {
              return std::tie(a.permission(), a.scope(), a.binding_id()) <
                     std::tie(b.permission(), b.scope(), b.binding_id());
            });
  return out;
}

absl::StatusOr<std::vector<std::string>> AuthzSnapshot::WhoCan(
    absl::string_view permission, absl::string_view scope,
    absl::Time now) const {
  const int32_t perm = policy_->PermissionId(permission);
  if (perm < 0) {
    return absl::NotFoundError(absl::StrCat(
        "permission ", QuoteForMessage(permission), " is not declared"));
  }
  RETURN_IF_ERROR(ValidateScopePath(scope));
  const int32_t scope_id = policy_->ScopeId(scope);
  if (scope_id < 0) {
    return absl::NotFoundError(
        absl::StrCat("scope ", QuoteForMessage(scope), " is not declared"));
  }
  const int64_t now_unix = absl::ToUnixSeconds(now);
  auto any_grants = [&](const Principal& p) {
    return std::any_of(p.bindings.begin(), p.bindings.end(), [&](const Grant& g) {
      return !g.ExpiredAt(now_unix) && policy_->Covers(g.scope, scope_id) &&
             policy_->Grants(g.role, perm);
    });
  };
  std::vector<bool> granting_groups(subjects_->groups_by_id.size());
  for (size_t id = 0; id < granting_groups.size(); ++id) {
    const Principal* g = subjects_->Group(static_cast<int32_t>(id));
    granting_groups[id] = g != nullptr && any_grants(*g);
  }
  std::vector<std::string> out;
  subjects_->people.ForEach(
      [&](const std::string& id, const Principal& p) {
        if (!p.synced || p.status != iam::v1::PERSON_STATUS_ACTIVE) return;
        bool allowed = any_grants(p);
        for (size_t i = 0; !allowed && i < p.groups.size(); ++i) {
          const size_t group = static_cast<size_t>(p.groups[i]);
          allowed = group < granting_groups.size() && granting_groups[group];
        }
        if (allowed) out.push_back(id);
      });
  std::sort(out.begin(), out.end());
  return out;
}

iam::v1::PolicyDocument AuthzSnapshot::Policy() const {
  iam::v1::PolicyDocument doc;
  const PolicyModel& m = policy_->model();
  for (const auto& [name, p] : m.permissions) *doc.add_permissions() = p;
  for (const auto& [name, r] : m.roles) *doc.add_roles() = r;
  for (const auto& [path, s] : m.scopes) *doc.add_scopes() = s;
  return doc;
}

std::vector<iam::v1::RoleBinding> AuthzSnapshot::ListBindings(
    const iam::v1::Subject& subject, absl::string_view role,
    absl::string_view scope, absl::string_view after_id, int limit) const {
  std::vector<iam::v1::RoleBinding> out;
  auto take = [&](const BindingRec& b) {
    const iam::v1::RoleBinding& p = b.proto;
    if ((role.empty() || p.role() == role) &&
        (scope.empty() || p.scope() == scope) &&
        (subject.kind() == iam::v1::SUBJECT_KIND_UNSPECIFIED ||
         p.subject().kind() == subject.kind()) &&
        (subject.id().empty() || p.subject().id() == subject.id())) {
      out.push_back(p);
    }
    return limit <= 0 || static_cast<int>(out.size()) < limit;
  };
  if (subject.kind() != iam::v1::SUBJECT_KIND_UNSPECIFIED &&
      !subject.id().empty()) {
    const Principal* p = subjects_->Find(subject.kind(), subject.id());
    if (p == nullptr) return out;
    auto it = std::upper_bound(p->bindings.begin(), p->bindings.end(), after_id,
                               [](absl::string_view id, const Grant& g) {
                                 return id < g.id();
                               });
    for (; it != p->bindings.end(); ++it) {
      if (!take(*it->binding)) break;
    }
    return out;
  }
  subjects_->bindings.ForEachAfter(after_id, take);
  return out;
}

bool AuthzSnapshot::HasSubject(absl::string_view person_id) const {
  const Principal* p = subjects_->Find(iam::v1::SUBJECT_KIND_PERSON, person_id);
  return p != nullptr && p->synced;
}

// ---------------------------------------------------------------------------
// AuthzEngine

namespace {

std::atomic<uint64_t> next_engine_instance{1};

struct CachedSnapshot {
  uint64_t engine = 0;
  // The engine's snapshot, owned through a control block of this thread's
  // own (an aliasing pointer to a holder): the copy each Decision takes
  // writes a reference count no other thread writes.
  std::shared_ptr<const AuthzSnapshot> snapshot;
};
thread_local CachedSnapshot cached_snapshot;

}  // namespace

absl::InlinedVector<int32_t, 4> AuthzEngine::InternGroups(
    const iam::v1::SyncSubjectRequest& subject) {
  absl::InlinedVector<int32_t, 4> ids;
  for (const std::string& g : subject.groups()) ids.push_back(group_names_.Intern(g));
  return ids;
}

AuthzEngine::AuthzEngine(Store* store, const Clock* clock)
    : store_(store),
      clock_(clock),
      instance_id_(next_engine_instance.fetch_add(1, std::memory_order_relaxed)) {}

absl::StatusOr<std::unique_ptr<AuthzEngine>> AuthzEngine::Open(
    Store* store, const Clock* clock) {
  std::unique_ptr<AuthzEngine> engine(new AuthzEngine(store, clock));
  RETURN_IF_ERROR(engine->Load());
  return engine;
}

absl::Status AuthzEngine::Load() {
  absl::MutexLock lock(&write_mu_);
  scope_paths_.Intern(kRootScope);  // PolicyIndex::kRootScopeId
  const Revision revision = store_->CurrentRevision();

  // Scans `prefix`, parsing each value as Proto and handing it to fn.
  auto scan = [&](absl::string_view prefix, auto proto_type, auto fn) {
    absl::Status error;
    absl::Status s = store_->Scan(
        kAuthzColumn, prefix, [&](absl::string_view key, absl::string_view value) {
          decltype(proto_type) proto;
          error = ParseRecord(key, value, proto);
          if (!error.ok()) return false;
          fn(std::move(proto));
          return true;
        });
    return s.ok() ? error : s;
  };

  PolicyModel model;
  RETURN_IF_ERROR(scan(kPermPrefix, iam::v1::Permission(),
                       [&](iam::v1::Permission p) {
                         std::string name = p.name();
                         model.permissions[name] = std::move(p);
                       }));
  RETURN_IF_ERROR(scan(kRolePrefix, iam::v1::Role(), [&](iam::v1::Role r) {
    std::string name = r.name();
    model.roles[name] = std::move(r);
  }));
  RETURN_IF_ERROR(scan(kScopePrefix, iam::v1::Scope(), [&](iam::v1::Scope s) {
    std::string path = s.path();
    if (path != kRootScope) model.scopes[path] = std::move(s);
  }));

  // Bindings are interned before the index is built so that the index covers
  // every id they hold, even a dangling one from a damaged store.
  auto subjects = std::make_shared<SubjectIndex>();
  int64_t max_id = 0;
  RETURN_IF_ERROR(scan(kBindPrefix, iam::v1::RoleBinding(),
                       [&](iam::v1::RoleBinding b) {
                         int64_t n = 0;
                         absl::string_view id = b.id();
                         if (absl::ConsumePrefix(&id, kBindingIdPrefix) &&
                             absl::SimpleAtoi(id, &n)) {
                           max_id = std::max(max_id, n);
                         }
                         const int32_t role = role_names_.Intern(b.role());
                         const int32_t scope = scope_paths_.Intern(b.scope());
                         subjects->AddBinding(MakeBindingRec(
                             std::move(b), role, scope, group_names_));
                       }));
  RETURN_IF_ERROR(scan(kSubjPrefix, iam::v1::SyncSubjectRequest(),
                       [&](iam::v1::SyncSubjectRequest s) {
                         subjects->SetPerson(s, InternGroups(s));
                       }));
  next_binding_id_ = max_id + 1;
  absl::StatusOr<std::string> stored =
      store_->Get(kAuthzColumn, kNextBindingIdKey);
  if (stored.ok()) {
    int64_t n = 0;
    if (!absl::SimpleAtoi(*stored, &n)) {
      return absl::DataLossError(absl::StrCat(
          "authz record ", kNextBindingIdKey, " is not a number"));
    }
    next_binding_id_ = std::max(next_binding_id_, n);
  } else if (!absl::IsNotFound(stored.status())) {
    return stored.status();
  }

  auto snapshot = std::shared_ptr<const AuthzSnapshot>(
      new AuthzSnapshot(revision, BuildIndex(std::move(model)), subjects));
  {
    absl::MutexLock snapshot_lock(&snapshot_mu_);
    snapshot_ = std::move(snapshot);
  }
  published_revision_.store(revision, std::memory_order_release);
  return absl::OkStatus();
}

std::shared_ptr<const AuthzSnapshot> AuthzEngine::snapshot() const {
  absl::ReaderMutexLock lock(&snapshot_mu_);
  return snapshot_;
}

Decision AuthzEngine::Check(absl::string_view person_id,
                            absl::string_view permission,
                            absl::string_view scope) const {
  CachedSnapshot& cache = cached_snapshot;
  if (cache.engine != instance_id_ ||
      cache.snapshot->revision() !=
          published_revision_.load(std::memory_order_acquire)) {
    auto holder = std::make_shared<std::shared_ptr<const AuthzSnapshot>>(snapshot());
    const AuthzSnapshot* current = holder->get();
    cache.snapshot =
        std::shared_ptr<const AuthzSnapshot>(std::move(holder), current);
    cache.engine = instance_id_;
  }
  Decision d = cache.snapshot->Check(person_id, permission, scope, clock_->Now());
  d.reason.keep_alive_ = cache.snapshot;
  return d;
}

std::shared_ptr<const PolicyIndex> AuthzEngine::BuildIndex(PolicyModel model) {
  return PolicyIndex::Build(std::move(model), perm_names_, role_names_,
                            scope_paths_);
}

absl::StatusOr<Revision> AuthzEngine::CommitAndPublish(
    const WriteBatch& batch, std::shared_ptr<const PolicyIndex> policy,
    std::shared_ptr<const SubjectIndex> subjects, const CommitFn& commit) {
  ASSIGN_OR_RETURN(Revision revision, CommitThrough(commit, *store_, batch));
  Publish(revision, std::move(policy), std::move(subjects));
  return revision;
}

void AuthzEngine::Publish(Revision revision,
                          std::shared_ptr<const PolicyIndex> policy,
                          std::shared_ptr<const SubjectIndex> subjects) {
  std::shared_ptr<const AuthzSnapshot> next(
      new AuthzSnapshot(revision, std::move(policy), std::move(subjects)));
  {
    absl::MutexLock lock(&snapshot_mu_);
    snapshot_.swap(next);
  }
  published_revision_.store(revision, std::memory_order_release);
  // `next` now holds the old snapshot, released outside the lock.
}

absl::StatusOr<Revision> AuthzEngine::CommitPolicy(PolicyModel model,
                                                   const WriteBatch& batch,
                                                   const CommitFn& commit) {
  std::shared_ptr<const PolicyIndex> index = BuildIndex(std::move(model));
  return CommitAndPublish(batch, std::move(index), current()->subjects_, commit);
}

absl::StatusOr<Revision> AuthzEngine::PutPermission(
    const iam::v1::Permission& p, const CommitFn& commit) {
  RETURN_IF_ERROR(ValidatePermissionName(p.name()));
  if (!iam::v1::AuditMode_IsValid(p.audit_mode())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "audit_mode ", p.audit_mode(), " is not a known AuditMode"));
  }
  if (p.description().size() > kMaxDescriptionLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "description is ", p.description().size(), " bytes long; at most ",
        kMaxDescriptionLength, " are allowed"));
  }
  absl::MutexLock lock(&write_mu_);
  PolicyModel model = current()->policy_->model();
  model.permissions[p.name()] = p;
  WriteBatch batch;
  batch.Put(kAuthzColumn, Key(kPermPrefix, p.name()), p.SerializeAsString());
  return CommitPolicy(std::move(model), batch, commit);
}

absl::StatusOr<Revision> AuthzEngine::DeletePermission(absl::string_view name,
                                                       const CommitFn& commit) {
  absl::MutexLock lock(&write_mu_);
  PolicyModel model = current()->policy_->model();
  auto it = model.permissions.find(name);
  if (it == model.permissions.end()) {
    return absl::NotFoundError(absl::StrCat(
        "permission ", QuoteForMessage(name), " is not declared"));
  }
  std::vector<std::string> users;
  for (const auto& [role_name, role] : model.roles) {
    if (std::find(role.permissions().begin(), role.permissions().end(), name) !=
        role.permissions().end()) {
      users.push_back(role_name);
    }
  }
  if (!users.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "permission ", QuoteForMessage(name), " is granted by role(s) ",
        absl::StrJoin(users, ", "), "; remove it from them first"));
  }
  model.permissions.erase(it);
  WriteBatch batch;
  batch.Delete(kAuthzColumn, Key(kPermPrefix, name));
  return CommitPolicy(std::move(model), batch, commit);
}

absl::StatusOr<Revision> AuthzEngine::PutRole(const iam::v1::Role& r,
                                              const CommitFn& commit) {
  RETURN_IF_ERROR(ValidateRoleName(r.name()));
  const std::string where = absl::StrCat("role ", QuoteForMessage(r.name()), ": ");
  if (r.description().size() > kMaxDescriptionLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, "description is ", r.description().size(),
        " bytes long; at most ", kMaxDescriptionLength, " are allowed"));
  }
  if (r.permissions_size() > kMaxRoleEntries ||
      r.inherits_size() > kMaxRoleEntries) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, "at most ", kMaxRoleEntries,
        " permissions and inherited roles each are allowed"));
  }
  for (int j = 0; j < r.requires_size(); ++j) {
    if (r.requires(j) == iam::v1::PREREQUISITE_UNSPECIFIED ||
        !iam::v1::Prerequisite_IsValid(r.requires(j))) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, "requires[", j, "] is not a known prerequisite"));
    }
  }
  absl::flat_hash_set<absl::string_view> seen;
  for (int j = 0; j < r.permissions_size(); ++j) {
    const std::string& p = r.permissions(j);
    RETURN_IF_ERROR(WithPrefix(absl::StrCat(where, "permissions[", j, "]: "),
                               ValidatePermissionName(p)));
    if (!seen.insert(p).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "permissions[", j, "]: ", QuoteForMessage(p),
                       " is listed twice; remove the repeat"));
    }
  }
  seen.clear();
  for (int j = 0; j < r.inherits_size(); ++j) {
    const std::string& i = r.inherits(j);
    RETURN_IF_ERROR(WithPrefix(absl::StrCat(where, "inherits[", j, "]: "),
                               ValidateRoleName(i)));
    if (!seen.insert(i).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "inherits[", j, "]: ", QuoteForMessage(i),
                       " is listed twice; remove the repeat"));
    }
  }

  absl::MutexLock lock(&write_mu_);
  PolicyModel model = current()->policy_->model();
  for (int j = 0; j < r.permissions_size(); ++j) {
    if (!model.permissions.count(r.permissions(j))) {
      return absl::NotFoundError(absl::StrCat(
          where, "permissions[", j, "]: permission ",
          QuoteForMessage(r.permissions(j)),
          " is not declared; put the permission first"));
    }
  }
  for (int j = 0; j < r.inherits_size(); ++j) {
    const std::string& i = r.inherits(j);
    if (i != r.name() && !model.roles.count(i)) {
      return absl::NotFoundError(
          absl::StrCat(where, "inherits[", j, "]: role ", QuoteForMessage(i),
                       " is not declared; put that role first"));
    }
  }
  model.roles[r.name()] = r;
  std::vector<std::string> cycle = FindCycle(model.roles, r.name());
  if (!cycle.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, "inheritance cycle ", absl::StrJoin(cycle, " -> "),
        "; a role may not inherit itself, directly or through other roles"));
  }
  WriteBatch batch;
  batch.Put(kAuthzColumn, Key(kRolePrefix, r.name()), r.SerializeAsString());
  return CommitPolicy(std::move(model), batch, commit);
}

absl::StatusOr<Revision> AuthzEngine::DeleteRole(absl::string_view name,
                                                 const CommitFn& commit) {
  absl::MutexLock lock(&write_mu_);
  std::shared_ptr<const AuthzSnapshot> cur = current();
  PolicyModel model = cur->policy_->model();
  auto it = model.roles.find(name);
  if (it == model.roles.end()) {
    return absl::NotFoundError(
        absl::StrCat("role ", QuoteForMessage(name), " is not declared"));
  }
  std::vector<std::string> heirs;
  for (const auto& [role_name, role] : model.roles) {
    if (std::find(role.inherits().begin(), role.inherits().end(), name) !=
        role.inherits().end()) {
      heirs.push_back(role_name);
    }
  }
  if (!heirs.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "role ", QuoteForMessage(name), " is inherited by role(s) ",
        absl::StrJoin(heirs, ", "), "; remove it from their inherits first"));
  }
  auto [ids, count] = BindingsWhere(
      *cur->subjects_, [&](const BindingRec& b) { return b.proto.role() == name; });
  if (count > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "role ", QuoteForMessage(name), " is bound by ", count,
        " binding(s) (", JoinSome(ids, count), "); delete them first"));
  }
  model.roles.erase(it);
  WriteBatch batch;
  batch.Delete(kAuthzColumn, Key(kRolePrefix, name));
  return CommitPolicy(std::move(model), batch, commit);
}

absl::StatusOr<Revision> AuthzEngine::PutScope(const iam::v1::Scope& s,
                                               const CommitFn& commit) {
  RETURN_IF_ERROR(ValidateScopePath(s.path()));
  if (s.path() == kRootScope) {
    return absl::InvalidArgumentError(
        "the root scope \"/\" always exists and cannot be put");
  }
  if (s.description().size() > kMaxDescriptionLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "description is ", s.description().size(), " bytes long; at most ",
        kMaxDescriptionLength, " are allowed"));
  }
  absl::MutexLock lock(&write_mu_);
  PolicyModel model = current()->policy_->model();
  absl::string_view parent = ParentScope(s.path());
  if (parent != kRootScope && !model.scopes.count(parent)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "parent scope ", QuoteForMessage(parent), " of ",
        QuoteForMessage(s.path()), " does not exist; put it first"));
  }
  model.scopes[s.path()] = s;
  WriteBatch batch;
  batch.Put(kAuthzColumn, Key(kScopePrefix, s.path()), s.SerializeAsString());
  return CommitPolicy(std::move(model), batch, commit);
}

absl::StatusOr<Revision> AuthzEngine::DeleteScope(absl::string_view path,
                                                  const CommitFn& commit) {
  if (path == kRootScope) {
    return absl::InvalidArgumentError("the root scope \"/\" cannot be deleted");
  }
  absl::MutexLock lock(&write_mu_);
  std::shared_ptr<const AuthzSnapshot> cur = current();
  PolicyModel model = cur->policy_->model();
  auto it = model.scopes.find(path);
  if (it == model.scopes.end()) {
    return absl::NotFoundError(
        absl::StrCat("scope ", QuoteForMessage(path), " is not declared"));
  }
  const std::string below = absl::StrCat(path, "/");
  auto child = model.scopes.lower_bound(below);
  if (child != model.scopes.end() && absl::StartsWith(child->first, below)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "scope ", QuoteForMessage(path), " has child scope ",
        QuoteForMessage(child->first), "; delete the children first"));
  }
  auto [ids, count] = BindingsWhere(*cur->subjects_, [&](const BindingRec& b) {
    return b.proto.scope() == path;
  });
  if (count > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "scope ", QuoteForMessage(path), " is used by ", count,
        " binding(s) (", JoinSome(ids, count), "); delete them first"));
  }
  model.scopes.erase(it);
  WriteBatch batch;
  batch.Delete(kAuthzColumn, Key(kScopePrefix, path));
  return CommitPolicy(std::move(model), batch, commit);
}

absl::StatusOr<std::pair<std::vector<iam::v1::RoleBinding>, Revision>>
AuthzEngine::CreateBindings(std::vector<iam::v1::RoleBinding> bindings,
                            absl::string_view caller,
                            const NamedCommitFn& commit) {
  if (bindings.empty() || bindings.size() > kMaxBatchSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "give 1-", kMaxBatchSize, " bindings (got ", bindings.size(), ")"));
  }
  if (caller.size() > kMaxIdLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("caller is longer than ", kMaxIdLength, " bytes"));
  }
  absl::MutexLock lock(&write_mu_);
  std::shared_ptr<const AuthzSnapshot> cur = current();
  const PolicyIndex& policy = *cur->policy_;
  const absl::Time now = clock_->Now();
  const int64_t now_unix = absl::ToUnixSeconds(now);

  std::vector<std::pair<int32_t, int32_t>> ids;  // role, scope
  ids.reserve(bindings.size());
  for (size_t i = 0; i < bindings.size(); ++i) {
    const iam::v1::RoleBinding& b = bindings[i];
    const std::string where = absl::StrCat("bindings[", i, "]: ");
    const iam::v1::SubjectKind kind = b.subject().kind();
    if (kind != iam::v1::SUBJECT_KIND_PERSON &&
        kind != iam::v1::SUBJECT_KIND_GROUP) {
      return absl::InvalidArgumentError(absl::StrCat(
          where,
          "subject.kind must be SUBJECT_KIND_PERSON or SUBJECT_KIND_GROUP"));
    }
    RETURN_IF_ERROR(WithPrefix(where, CheckId("subject.id", b.subject().id())));
    if (b.reason().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, "reason is required: say why (a ticket or free text)"));
    }
    if (Utf8Length(b.reason()) > kMaxReasonLength) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "reason is longer than ", kMaxReasonLength,
                       " characters; shorten it or link a ticket"));
    }
    const int32_t role = policy.RoleId(b.role());
    if (role < 0) {
      RETURN_IF_ERROR(WithPrefix(where, ValidateRoleName(b.role())));
      return absl::NotFoundError(absl::StrCat(
          where, "role ", QuoteForMessage(b.role()), " is not declared"));
    }
    RETURN_IF_ERROR(WithPrefix(where, ValidateScopePath(b.scope())));
    const int32_t scope = policy.ScopeId(b.scope());
    if (scope < 0) {
      return absl::NotFoundError(absl::StrCat(
          where, "scope ", QuoteForMessage(b.scope()), " is not declared"));
    }
    if (b.expires_at_unix() < 0 ||
        (b.expires_at_unix() != 0 && b.expires_at_unix() <= now_unix)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, "expires_at_unix ", b.expires_at_unix(),
          " is not in the future (now is ", now_unix, "); use 0 for never"));
    }
    ids.emplace_back(role, scope);
  }

  auto subjects = std::make_shared<SubjectIndex>(*cur->subjects_);
  int64_t next_id = next_binding_id_;
  WriteBatch batch;
  for (size_t i = 0; i < bindings.size(); ++i) {
    iam::v1::RoleBinding& b = bindings[i];
    b.set_id(BindingId(next_id++));
    b.set_created_by(std::string(caller));
    b.set_created_at_unix(now_unix);
    batch.Put(kAuthzColumn, Key(kBindPrefix, b.id()), b.SerializeAsString());
    subjects->AddBinding(
        MakeBindingRec(b, ids[i].first, ids[i].second, group_names_));
  }
  batch.Put(kAuthzColumn, kNextBindingIdKey, absl::StrCat(next_id));
  const std::string new_ids = absl::StrJoin(
      bindings, ",", [](std::string* out, const iam::v1::RoleBinding& b) {
        out->append(b.id());
      });
  ASSIGN_OR_RETURN(Revision revision,
                   CommitAndPublish(batch, cur->policy_, std::move(subjects),
                                    NameCommit(commit, new_ids)));
  next_binding_id_ = next_id;
  return std::make_pair(std::move(bindings), revision);
}

absl::StatusOr<Revision> AuthzEngine::DeleteBinding(absl::string_view id,
                                                    const CommitFn& commit) {
  absl::MutexLock lock(&write_mu_);
  std::shared_ptr<const AuthzSnapshot> cur = current();
  if (cur->subjects_->bindings.Find(id) == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no role binding has id ", QuoteForMessage(id)));
  }
  auto subjects = std::make_shared<SubjectIndex>(*cur->subjects_);
  subjects->RemoveBinding(id);
  WriteBatch batch;
  batch.Delete(kAuthzColumn, Key(kBindPrefix, id));
  return CommitAndPublish(batch, cur->policy_, std::move(subjects), commit);
}

absl::StatusOr<Revision> AuthzEngine::DeleteBindingsOf(
    const iam::v1::Subject& subject, const CommitFn& commit) {
  if (subject.kind() != iam::v1::SUBJECT_KIND_PERSON &&
      subject.kind() != iam::v1::SUBJECT_KIND_GROUP) {
    return absl::InvalidArgumentError(
        "subject.kind must be SUBJECT_KIND_PERSON or SUBJECT_KIND_GROUP");
  }
  RETURN_IF_ERROR(CheckId("subject.id", subject.id()));
  absl::MutexLock lock(&write_mu_);
  std::shared_ptr<const AuthzSnapshot> cur = current();
  const Principal* p = cur->subjects_->Find(subject.kind(), subject.id());
  if (p == nullptr || p->bindings.empty()) return cur->revision();
  auto subjects = std::make_shared<SubjectIndex>(*cur->subjects_);
  WriteBatch batch;
  // `p` stays valid: `cur` holds the snapshot it belongs to.
  for (const Grant& g : p->bindings) {
    batch.Delete(kAuthzColumn, Key(kBindPrefix, g.id()));
    subjects->RemoveBinding(g.id());
  }
  return CommitAndPublish(batch, cur->policy_, std::move(subjects), commit);
}

absl::StatusOr<Revision> AuthzEngine::SyncSubjects(
    const std::vector<iam::v1::SyncSubjectRequest>& subjects, bool* changed,
    const CommitFn& commit) {
  if (changed != nullptr) *changed = true;
  if (subjects.empty() || subjects.size() > kMaxBatchSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "give 1-", kMaxBatchSize, " subjects (got ", subjects.size(), ")"));
  }
  for (size_t i = 0; i < subjects.size(); ++i) {
    const iam::v1::SyncSubjectRequest& s = subjects[i];
    const std::string where = absl::StrCat("subjects[", i, "]: ");
    RETURN_IF_ERROR(WithPrefix(where, CheckId("person_id", s.person_id())));
    if (s.status() == iam::v1::PERSON_STATUS_UNSPECIFIED ||
        !iam::v1::PersonStatus_IsValid(s.status())) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, "status must be one of PERSON_STATUS_PENDING, _ACTIVE, "
                 "_SUSPENDED, _LEFT"));
    }
    if (s.groups_size() > kMaxGroupsPerSubject) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "a person may be in at most ",
                       kMaxGroupsPerSubject, " groups (got ", s.groups_size(), ")"));
    }
    for (int g = 0; g < s.groups_size(); ++g) {
      RETURN_IF_ERROR(WithPrefix(
          where, CheckId(absl::StrCat("groups[", g, "]"), s.groups(g))));
    }
  }
  absl::MutexLock lock(&write_mu_);
  std::shared_ptr<const AuthzSnapshot> cur = current();
  std::vector<iam::v1::SyncSubjectRequest> normals;
  normals.reserve(subjects.size());
  WriteBatch batch;
  bool any_change = false;
  for (const iam::v1::SyncSubjectRequest& s : subjects) {
    iam::v1::SyncSubjectRequest& normal = normals.emplace_back();
    normal.set_person_id(s.person_id());
    normal.set_status(s.status());
    std::vector<std::string> groups(s.groups().begin(), s.groups().end());
    std::sort(groups.begin(), groups.end());
    groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
    for (std::string& g : groups) normal.add_groups(std::move(g));
    const std::string key = Key(kSubjPrefix, s.person_id());
    std::string value = normal.SerializeAsString();
    if (!any_change) {
      absl::StatusOr<std::string> stored = store_->Get(kAuthzColumn, key);
      if (!stored.ok() && !absl::IsNotFound(stored.status())) return stored.status();
      any_change = !stored.ok() || *stored != value;
    }
    batch.Put(kAuthzColumn, key, std::move(value));
  }
  if (!any_change) {
    if (changed != nullptr) *changed = false;
    const Revision now = store_->CurrentRevision();
    if (now > cur->revision()) Publish(now, cur->policy_, cur->subjects_);
    return std::max(now, cur->revision());
  }
  auto index = std::make_shared<SubjectIndex>(*cur->subjects_);
  for (const iam::v1::SyncSubjectRequest& normal : normals) {
    index->SetPerson(normal, InternGroups(normal));
  }
  return CommitAndPublish(batch, cur->policy_, std::move(index), commit);
}

std::string ChangeCount(size_t changes) {
  return absl::StrCat(changes, " changes");
}

absl::StatusOr<ApplyResult> AuthzEngine::ApplyPolicy(
    const iam::v1::PolicyDocument& doc, bool dry_run,
    const NamedCommitFn& commit) {
  std::vector<PolicyIssue> issues = ValidatePolicy(doc);
  if (!issues.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the policy has ", issues.size(), " problem(s); first: ",
                     FormatIssue(issues.front())));
  }
  PolicyModel next;
  for (const auto& p : doc.permissions()) next.permissions[p.name()] = p;
  for (const auto& r : doc.roles()) next.roles[r.name()] = r;
  for (const auto& s : doc.scopes()) next.scopes[s.path()] = s;

  absl::MutexLock lock(&write_mu_);
  std::shared_ptr<const AuthzSnapshot> cur = current();
  const PolicyModel& old = cur->policy_->model();
  ApplyResult result;
  WriteBatch batch;
  auto record = [&](iam::v1::PolicyChange::Kind kind, absl::string_view type,
                    absl::string_view prefix, const std::string& name,
                    const google::protobuf::Message* to, std::string detail) {
    result.changes.push_back(MakeChange(kind, type, name, std::move(detail)));
    if (to == nullptr) {
      batch.Delete(kAuthzColumn, Key(prefix, name));
    } else {
      batch.Put(kAuthzColumn, Key(prefix, name), to->SerializeAsString());
    }
  };
  DiffMaps(old.permissions, next.permissions,
           SameMessage,
           [&](auto kind, const std::string& name, const iam::v1::Permission* a,
               const iam::v1::Permission* b) {
             std::string detail =
                 kind == iam::v1::PolicyChange::KIND_CHANGE
                     ? PermissionChange(*a, *b)
                 : kind == iam::v1::PolicyChange::KIND_ADD ? "new permission"
                                                           : "removed";
             record(kind, "permission", kPermPrefix, name, b, std::move(detail));
           });
  absl::flat_hash_set<std::string> removed_roles, removed_scopes;
  DiffMaps(old.roles, next.roles,
           SameMessage,
           [&](auto kind, const std::string& name, const iam::v1::Role* a,
               const iam::v1::Role* b) {
             std::string detail = kind == iam::v1::PolicyChange::KIND_CHANGE
                                      ? RoleChange(*a, *b)
                                  : kind == iam::v1::PolicyChange::KIND_ADD
                                      ? RoleSummary(*b)
                                      : "removed";
             if (kind == iam::v1::PolicyChange::KIND_REMOVE) {
               removed_roles.insert(name);
             }
             record(kind, "role", kRolePrefix, name, b, std::move(detail));
           });
  DiffMaps(old.scopes, next.scopes,
           SameMessage,
           [&](auto kind, const std::string& path, const iam::v1::Scope* a,
               const iam::v1::Scope* b) {
             std::string detail =
                 kind == iam::v1::PolicyChange::KIND_CHANGE
                     ? DescriptionChange(a->description(), b->description())
                 : kind == iam::v1::PolicyChange::KIND_ADD ? "new scope"
                                                           : "removed";
             if (kind == iam::v1::PolicyChange::KIND_REMOVE) {
               removed_scopes.insert(path);
             }
             record(kind, "scope", kScopePrefix, path, b, std::move(detail));
           });

  if (!removed_roles.empty() || !removed_scopes.empty()) {
    auto [ids, count] = BindingsWhere(*cur->subjects_, [&](const BindingRec& b) {
      return removed_roles.contains(b.proto.role()) ||
             removed_scopes.contains(b.proto.scope());
    });
    if (count > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the policy removes roles or scopes that ", count,
          " binding(s) use (", JoinSome(ids, count),
          "); delete those bindings first or keep the roles and scopes"));
    }
  }
  if (dry_run || result.changes.empty()) return result;
  ASSIGN_OR_RETURN(
      result.revision,
      CommitPolicy(std::move(next), batch,
                   NameCommit(commit, ChangeCount(result.changes.size()))));
  return result;
}

}  // namespace iam::authz
