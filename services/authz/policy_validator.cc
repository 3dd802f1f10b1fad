#include "services/authz/policy_validator.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/authz/names.h"

namespace iam::authz {
namespace {

constexpr char kPermission[] = "permission";
constexpr char kRole[] = "role";
constexpr char kScope[] = "scope";

class IssueList {
 public:
  void Add(const char* type, int index, absl::string_view name,
           absl::string_view field, int field_index, std::string message) {
    issues_.push_back(PolicyIssue{type, index, std::string(name),
                                  std::string(field), field_index,
                                  std::move(message)});
  }
  std::vector<PolicyIssue> Take() { return std::move(issues_); }

 private:
  std::vector<PolicyIssue> issues_;
};

// The first index of each name in `names`; later duplicates are not entered.
template <typename Container, typename GetName>
absl::flat_hash_map<absl::string_view, int> FirstIndex(const Container& c,
                                                       GetName get) {
  absl::flat_hash_map<absl::string_view, int> out;
  for (int i = 0; i < c.size(); ++i) out.try_emplace(get(c.Get(i)), i);
  return out;
}

void CheckDescription(IssueList& issues, const char* type, int index,
                      absl::string_view name, const std::string& description) {
  if (description.size() > kMaxDescriptionLength) {
    issues.Add(type, index, name, "description", -1,
               absl::StrCat("description is ", description.size(),
                            " bytes long; shorten it to at most ",
                            kMaxDescriptionLength));
  }
}

void CheckPermissions(const iam::v1::PolicyDocument& doc,
                      const absl::flat_hash_map<absl::string_view, int>& first,
                      IssueList& issues) {
  for (int i = 0; i < doc.permissions_size(); ++i) {
    const iam::v1::Permission& p = doc.permissions(i);
    if (absl::Status s = ValidatePermissionName(p.name()); !s.ok()) {
      issues.Add(kPermission, i, p.name(), "name", -1, std::string(s.message()));
    } else if (int f = first.at(p.name()); f != i) {
      issues.Add(kPermission, i, p.name(), "name", -1,
                 absl::StrCat("permission ", QuoteForMessage(p.name()),
                              " is declared twice (first as permissions[", f,
                              "]); remove or rename one"));
    }
    CheckDescription(issues, kPermission, i, p.name(), p.description());
    if (!iam::v1::AuditMode_IsValid(p.audit_mode())) {
      issues.Add(kPermission, i, p.name(), "audit_mode", -1,
                 absl::StrCat("audit_mode ", p.audit_mode(),
                              " is not a known AuditMode; use AUDIT_MODE_SYNC, "
                              "AUDIT_MODE_ASYNC, AUDIT_MODE_DENIALS_ONLY or "
                              "leave it out for the default"));
    }
  }
}

void CheckRoleEntries(const iam::v1::PolicyDocument& doc,
                      const absl::flat_hash_map<absl::string_view, int>& perms,
                      const absl::flat_hash_map<absl::string_view, int>& roles,
                      IssueList& issues) {
  for (int i = 0; i < doc.roles_size(); ++i) {
    const iam::v1::Role& r = doc.roles(i);
    if (absl::Status s = ValidateRoleName(r.name()); !s.ok()) {
      issues.Add(kRole, i, r.name(), "name", -1, std::string(s.message()));
    } else if (int f = roles.at(r.name()); f != i) {
      issues.Add(kRole, i, r.name(), "name", -1,
                 absl::StrCat("role ", QuoteForMessage(r.name()),
                              " is declared twice (first as roles[", f,
                              "]); remove or rename one"));
    }
    CheckDescription(issues, kRole, i, r.name(), r.description());
    if (r.permissions_size() > kMaxRoleEntries) {
      issues.Add(kRole, i, r.name(), "permissions", -1,
                 absl::StrCat("the role lists ", r.permissions_size(),
                              " permissions; at most ", kMaxRoleEntries,
                              " are allowed"));
    }
    if (r.inherits_size() > kMaxRoleEntries) {
      issues.Add(kRole, i, r.name(), "inherits", -1,
                 absl::StrCat("the role inherits ", r.inherits_size(),
                              " roles; at most ", kMaxRoleEntries,
                              " are allowed"));
    }
    absl::flat_hash_set<absl::string_view> seen;
    for (int j = 0; j < r.permissions_size(); ++j) {
      const std::string& p = r.permissions(j);
      if (absl::Status s = ValidatePermissionName(p); !s.ok()) {
        issues.Add(kRole, i, r.name(), "permissions", j,
                   std::string(s.message()));
      } else if (!perms.contains(p)) {
        issues.Add(kRole, i, r.name(), "permissions", j,
                   absl::StrCat("permission ", QuoteForMessage(p),
                                " is not declared; declare it under "
                                "permissions or remove it from the role"));
      } else if (!seen.insert(p).second) {
        issues.Add(kRole, i, r.name(), "permissions", j,
                   absl::StrCat("permission ", QuoteForMessage(p),
                                " is listed twice; remove the repeat"));
      }
    }
    for (int j = 0; j < r.requires_size(); ++j) {
      if (r.requires(j) == iam::v1::PREREQUISITE_UNSPECIFIED ||
          !iam::v1::Prerequisite_IsValid(r.requires(j))) {
        issues.Add(kRole, i, r.name(), "requires", j,
                   absl::StrCat("requires ", r.requires(j),
                                " is not a known prerequisite; use "
                                "PREREQUISITE_SECURITY_AGREEMENT_SIGNED or "
                                "PREREQUISITE_BACKGROUND_CHECK_PASSED"));
      }
    }
    seen.clear();
    for (int j = 0; j < r.inherits_size(); ++j) {
      const std::string& name = r.inherits(j);
      if (absl::Status s = ValidateRoleName(name); !s.ok()) {
        issues.Add(kRole, i, r.name(), "inherits", j, std::string(s.message()));
      } else if (!roles.contains(name)) {
        issues.Add(kRole, i, r.name(), "inherits", j,
                   absl::StrCat("role ", QuoteForMessage(name),
                                " is not declared; declare it under roles or "
                                "remove it from inherits"));
      } else if (!seen.insert(name).second) {
        issues.Add(kRole, i, r.name(), "inherits", j,
                   absl::StrCat("role ", QuoteForMessage(name),
                                " is inherited twice; remove the repeat"));
      }
    }
  }
}

// Depth-first search over the first declaration of each role; every edge that
// leads back onto the current path closes a cycle, reported once. Iterative,
// so that a long inheritance chain cannot overflow the stack.
void CheckCycles(const iam::v1::PolicyDocument& doc,
                 const absl::flat_hash_map<absl::string_view, int>& roles,
                 IssueList& issues) {
  enum Color : char { kWhite, kGray, kBlack };
  const int n = doc.roles_size();
  std::vector<Color> color(n, kWhite);
  std::vector<int> stack_pos(n, -1);
  struct Frame {
    int role;
    int next_edge;
  };
  std::vector<Frame> stack;
  for (int root = 0; root < n; ++root) {
    if (color[root] != kWhite || roles.at(doc.roles(root).name()) != root) {
      continue;
    }
    stack.push_back({root, 0});
    color[root] = kGray;
    stack_pos[root] = 0;
    while (!stack.empty()) {
      Frame& top = stack.back();
      const iam::v1::Role& r = doc.roles(top.role);
      if (top.next_edge >= r.inherits_size()) {
        color[top.role] = kBlack;
        stack_pos[top.role] = -1;
        stack.pop_back();
        continue;
      }
      const int edge = top.next_edge++;
      auto it = roles.find(r.inherits(edge));
      if (it == roles.end()) continue;  // reported as undeclared
      const int target = it->second;
      if (color[target] == kGray) {
        std::vector<absl::string_view> path;
        for (size_t k = stack_pos[target]; k < stack.size(); ++k) {
          path.push_back(doc.roles(stack[k].role).name());
        }
        path.push_back(doc.roles(target).name());
        issues.Add(kRole, top.role, r.name(), "inherits", edge,
                   absl::StrCat("inheritance cycle ",
                                absl::StrJoin(path, " -> "),
                                "; a role may not inherit itself, directly or "
                                "through other roles: remove one of these "
                                "inherits"));
      } else if (color[target] == kWhite) {
        color[target] = kGray;
        stack_pos[target] = static_cast<int>(stack.size());
        stack.push_back({target, 0});  // invalidates `top`
      }
    }
  }
}

void CheckScopes(const iam::v1::PolicyDocument& doc, IssueList& issues) {
  absl::flat_hash_map<absl::string_view, int> first;
  for (int i = 0; i < doc.scopes_size(); ++i) {
    const std::string& path = doc.scopes(i).path();
    if (ValidateScopePath(path).ok()) first.try_emplace(path, i);
  }
  for (int i = 0; i < doc.scopes_size(); ++i) {
    const iam::v1::Scope& s = doc.scopes(i);
    const std::string& path = s.path();
    if (absl::Status st = ValidateScopePath(path); !st.ok()) {
      issues.Add(kScope, i, path, "path", -1, std::string(st.message()));
    } else if (path == kRootScope) {
      issues.Add(kScope, i, path, "path", -1,
                 "the root scope \"/\" always exists and is not declared; "
                 "remove this entry");
    } else if (int f = first.at(path); f != i) {
      issues.Add(kScope, i, path, "path", -1,
                 absl::StrCat("scope ", QuoteForMessage(path),
                              " is declared twice (first as scopes[", f,
                              "]); remove one"));
    } else if (absl::string_view parent = ParentScope(path);
               parent != kRootScope && !first.contains(parent)) {
      issues.Add(kScope, i, path, "path", -1,
                 absl::StrCat("parent scope ", QuoteForMessage(parent),
                              " is not declared; declare it too (only the "
                              "root \"/\" is implicit)"));
    }
    CheckDescription(issues, kScope, i, path, s.description());
  }
}

bool CheckSizes(const iam::v1::PolicyDocument& doc, IssueList& issues) {
  bool ok = true;
  auto check = [&](const char* type, const char* field, int size) {
    if (size > kMaxPolicyObjects) {
      issues.Add(type, -1, "", field, -1,
                 absl::StrCat("the document has ", size, " ", field,
                              "; at most ", kMaxPolicyObjects,
                              " are allowed: split the policy"));
      ok = false;
    }
  };
  check(kPermission, "permissions", doc.permissions_size());
  check(kRole, "roles", doc.roles_size());
  check(kScope, "scopes", doc.scopes_size());
  return ok;
}

}  // namespace

std::vector<PolicyIssue> ValidatePolicy(const iam::v1::PolicyDocument& doc) {
  IssueList issues;
  if (!CheckSizes(doc, issues)) return issues.Take();
  auto perms = FirstIndex(doc.permissions(),
                          [](const iam::v1::Permission& p) -> absl::string_view {
                            return p.name();
                          });
  auto roles = FirstIndex(
      doc.roles(),
      [](const iam::v1::Role& r) -> absl::string_view { return r.name(); });
  CheckPermissions(doc, perms, issues);
  CheckRoleEntries(doc, perms, roles, issues);
  CheckCycles(doc, roles, issues);
  CheckScopes(doc, issues);
  return issues.Take();
}

std::string FormatIssue(const PolicyIssue& issue) {
  std::string out = absl::StrCat(issue.object_type, "s");
  if (issue.index >= 0) {
    absl::StrAppend(&out, "[", issue.index, "] ", QuoteForMessage(issue.name));
  }
  if (!issue.field.empty() && (issue.index >= 0 || issue.field_index >= 0)) {
    absl::StrAppend(&out, " ", issue.field);
    if (issue.field_index >= 0) absl::StrAppend(&out, "[", issue.field_index, "]");
  }
  absl::StrAppend(&out, ": ", issue.message);
  return out;
}

}  // namespace iam::authz
