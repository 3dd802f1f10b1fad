#include "services/lifecycle/birthright.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace iam::lifecycle {
namespace {

constexpr absl::string_view kSitePlaceholder = "{site}";

bool IsOrgUnitPath(absl::string_view path) {
  if (!absl::StartsWith(path, "ou/") || path.size() > 200) return false;
  for (absl::string_view segment : absl::StrSplit(path, '/')) {
    if (segment.empty()) return false;
    for (char c : segment) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
            c == '-')) {
        return false;
      }
    }
  }
  return true;
}

bool IsJobCode(absl::string_view code) {
  if (code.empty() || code.size() > 100) return false;
  return std::all_of(code.begin(), code.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool IsRuleName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

// "ou/production" covers "ou/production" and "ou/production/smt".
bool OrgUnitCovers(absl::string_view rule_unit, absl::string_view unit) {
  return unit == rule_unit ||
         (absl::StartsWith(unit, rule_unit) && unit.size() > rule_unit.size() &&
          unit[rule_unit.size()] == '/');
}

// The scope and its ancestors ("site/sz/area/burning", "site/sz", "/").
std::vector<std::string> ScopeAndAncestors(absl::string_view scope) {
  std::vector<std::string> out;
  std::string s(scope);
  while (!s.empty() && s != "/") {
    out.push_back(s);
    std::vector<std::string> parts = absl::StrSplit(s, '/');
    if (parts.size() <= 2) break;
    parts.resize(parts.size() - 2);
    s = absl::StrJoin(parts, "/");
  }
  out.push_back("/");
  return out;
}

void AddUnique(std::vector<iam::v1::Prerequisite>* to,
               const google::protobuf::RepeatedField<int>& from) {
  for (int p : from) {
    auto value = static_cast<iam::v1::Prerequisite>(p);
    if (std::find(to->begin(), to->end(), value) == to->end()) to->push_back(value);
  }
}

void SortUnique(std::vector<iam::v1::Prerequisite>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

void CheckPrerequisites(const google::protobuf::RepeatedField<int>& requires,
                        const std::string& where,
                        std::vector<std::string>* issues) {
  for (int i = 0; i < requires.size(); ++i) {
    if (requires[i] != iam::v1::PREREQUISITE_SECURITY_AGREEMENT_SIGNED &&
        requires[i] != iam::v1::PREREQUISITE_BACKGROUND_CHECK_PASSED) {
      issues->push_back(absl::StrCat(
          where, " requires[", i,
          "]: use PREREQUISITE_SECURITY_AGREEMENT_SIGNED or "
          "PREREQUISITE_BACKGROUND_CHECK_PASSED"));
    }
  }
}

}  // namespace

std::vector<std::string> BirthrightPolicy::Validate(
    const iam::v1::PolicyDocument& doc) {
  std::vector<std::string> issues;
  std::set<std::string> roles, scopes = {"/"}, sites, units, jobs, rule_names;
  for (const auto& r : doc.roles()) roles.insert(r.name());
  for (const auto& s : doc.scopes()) {
    scopes.insert(s.path());
    std::vector<std::string> parts = absl::StrSplit(s.path(), '/');
    if (parts.size() == 2 && parts[0] == "site") sites.insert(parts[1]);
  }
  for (int i = 0; i < doc.roles_size(); ++i) {
    CheckPrerequisites(doc.roles(i).requires(),
                       absl::StrCat("roles[", i, "] \"", doc.roles(i).name(), "\""),
                       &issues);
  }
  for (int i = 0; i < doc.org_units_size(); ++i) {
    const std::string& path = doc.org_units(i).path();
    std::string where = absl::StrCat("org_units[", i, "] \"", path, "\"");
    if (!IsOrgUnitPath(path)) {
      issues.push_back(absl::StrCat(
          where, ": path must be \"ou/\" followed by segments of [a-z0-9_-] "
                 "joined by '/', e.g. \"ou/production/smt\""));
    } else if (!units.insert(path).second) {
      issues.push_back(absl::StrCat(where, ": declared twice"));
    }
  }
  for (int i = 0; i < doc.job_codes_size(); ++i) {
    const std::string& code = doc.job_codes(i).code();
    std::string where = absl::StrCat("job_codes[", i, "] \"", code, "\"");
    if (!IsJobCode(code)) {
      issues.push_back(absl::StrCat(
          where, ": code must be 1-100 characters of [A-Z0-9_], e.g. LINE_LEAD"));
    } else if (!jobs.insert(code).second) {
      issues.push_back(absl::StrCat(where, ": declared twice"));
    }
  }
  for (int i = 0; i < doc.birthright_rules_size(); ++i) {
    const iam::v1::BirthrightRule& rule = doc.birthright_rules(i);
    std::string where =
        absl::StrCat("birthright_rules[", i, "] \"", rule.name(), "\"");
    if (!IsRuleName(rule.name())) {
      issues.push_back(absl::StrCat(
          where, ": name must be 1-64 characters of [a-z0-9_.-]"));
    } else if (!rule_names.insert(rule.name()).second) {
      issues.push_back(absl::StrCat(where, ": name used by an earlier rule"));
    }
    if (units.count(rule.org_unit()) == 0) {
      issues.push_back(absl::StrCat(where, ": org_unit \"", rule.org_unit(),
                                    "\" is not declared in org_units"));
    }
    if (jobs.count(rule.job_code()) == 0) {
      issues.push_back(absl::StrCat(where, ": job_code \"", rule.job_code(),
                                    "\" is not declared in job_codes"));
    }
    if (!rule.site().empty() && sites.count(rule.site()) == 0) {
      issues.push_back(absl::StrCat(where, ": site \"", rule.site(),
                                    "\" has no scope \"site/", rule.site(),
                                    "\""));
    }
    if (rule.grants_size() == 0) {
      issues.push_back(absl::StrCat(where, ": has no grants"));
    }
    for (int g = 0; g < rule.grants_size(); ++g) {
      const iam::v1::BirthrightGrant& grant = rule.grants(g);
      std::string gwhere = absl::StrCat(where, " grants[", g, "]");
      if (roles.count(grant.role()) == 0) {
        issues.push_back(absl::StrCat(gwhere, ": role \"", grant.role(),
                                      "\" is not declared"));
      }
      std::vector<std::string> for_sites;
      if (!absl::StrContains(grant.scope(), kSitePlaceholder)) {
        for_sites.push_back("");
      } else if (!rule.site().empty()) {
        for_sites.push_back(rule.site());
      } else {
        for_sites.assign(sites.begin(), sites.end());
      }
      for (const std::string& site : for_sites) {
        std::string scope =
            absl::StrReplaceAll(grant.scope(), {{kSitePlaceholder, site}});
        if (scopes.count(scope) == 0) {
          issues.push_back(absl::StrCat(
              gwhere, ": scope \"", scope, "\"",
              site.empty() ? "" : absl::StrCat(" (for site ", site, ")"),
              " is not declared",
              site.empty() || !rule.site().empty()
                  ? ""
                  : "; restrict the rule with `site:` or declare the scope"));
        }
      }
      CheckPrerequisites(grant.requires(), gwhere, &issues);
    }
  }
  for (int i = 0; i < doc.portable_roles_size(); ++i) {
    if (roles.count(doc.portable_roles(i)) == 0) {
      issues.push_back(absl::StrCat("portable_roles[", i, "] \"",
                                    doc.portable_roles(i),
                                    "\": role is not declared"));
    }
  }
  for (int i = 0; i < doc.scope_prerequisites_size(); ++i) {
    const auto& sp = doc.scope_prerequisites(i);
    std::string where =
        absl::StrCat("scope_prerequisites[", i, "] \"", sp.scope(), "\"");
    if (scopes.count(sp.scope()) == 0) {
      issues.push_back(absl::StrCat(where, ": scope is not declared"));
    }
    if (sp.requires_size() == 0) {
      issues.push_back(absl::StrCat(where, ": requires at least one prerequisite"));
    }
    CheckPrerequisites(sp.requires(), where, &issues);
  }
  return issues;
}

absl::StatusOr<BirthrightPolicy> BirthrightPolicy::FromDocument(
    const iam::v1::PolicyDocument& doc) {
  std::vector<std::string> issues = Validate(doc);
  if (!issues.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the HR lifecycle policy (birthright) has ", issues.size(),
                     issues.size() == 1 ? " issue:\n" : " issues:\n",
                     absl::StrJoin(issues, "\n")));
  }
  BirthrightPolicy p;
  for (const auto& u : doc.org_units()) p.org_units_.insert(u.path());
  for (const auto& j : doc.job_codes()) p.job_codes_.insert(j.code());
  for (const auto& s : doc.scopes()) {
    std::vector<std::string> parts = absl::StrSplit(s.path(), '/');
    if (parts.size() == 2 && parts[0] == "site") p.sites_.insert(parts[1]);
  }
  for (const auto& r : doc.portable_roles()) p.portable_roles_.insert(r);
  for (const auto& r : doc.roles()) {
    if (r.requires_size() == 0) continue;
    auto& v = p.role_requires_[r.name()];
    AddUnique(&v, r.requires());
    SortUnique(&v);
  }
  for (const auto& sp : doc.scope_prerequisites()) {
    auto& v = p.scope_requires_[sp.scope()];
    AddUnique(&v, sp.requires());
    SortUnique(&v);
  }
  p.rules_.assign(doc.birthright_rules().begin(), doc.birthright_rules().end());
  return p;
}

absl::Status BirthrightPolicy::CheckOrgUnit(absl::string_view org_unit) const {
  if (org_units_.count(org_unit) > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown org unit \"", org_unit,
      "\": declare it in org_units (policy/birthright.textproto) or correct "
      "the HR record"));
}

absl::Status BirthrightPolicy::CheckJobCode(absl::string_view job_code) const {
  if (job_codes_.count(job_code) > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown job code \"", job_code,
      "\": declare it in job_codes (policy/birthright.textproto) or correct "
      "the HR record"));
}

absl::Status BirthrightPolicy::CheckSite(absl::string_view site) const {
  if (sites_.count(site) > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown site \"", site, "\": the policy declares no scope \"site/", site,
      "\""));
}

std::vector<iam::v1::Prerequisite> BirthrightPolicy::RequiresFor(
    absl::string_view role, absl::string_view scope) const {
  std::vector<iam::v1::Prerequisite> out;
  auto r = role_requires_.find(role);
  if (r != role_requires_.end()) out = r->second;
  for (const std::string& s : ScopeAndAncestors(scope)) {
    auto it = scope_requires_.find(s);
    if (it != scope_requires_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
    }
  }
  SortUnique(&out);
  return out;
}

std::vector<PlannedGrant> BirthrightPolicy::GrantsFor(
    absl::string_view org_unit, absl::string_view job_code,
    absl::string_view site) const {
  std::map<std::pair<std::string, std::string>, PlannedGrant> by_key;
  for (const iam::v1::BirthrightRule& rule : rules_) {
    if (!OrgUnitCovers(rule.org_unit(), org_unit) || rule.job_code() != job_code ||
        (!rule.site().empty() && rule.site() != site)) {
      continue;
    }
    for (const iam::v1::BirthrightGrant& g : rule.grants()) {
      std::string scope =
          absl::StrReplaceAll(g.scope(), {{kSitePlaceholder, std::string(site)}});
      PlannedGrant& planned = by_key[{g.role(), scope}];
      if (planned.role.empty()) {
        planned.role = g.role();
        planned.scope = scope;
        planned.prerequisites = RequiresFor(g.role(), scope);
        planned.rule = rule.name();
      } else {
        absl::StrAppend(&planned.rule, ",", rule.name());
      }
      AddUnique(&planned.prerequisites, g.requires());
      SortUnique(&planned.prerequisites);
    }
  }
  std::vector<PlannedGrant> out;
  out.reserve(by_key.size());
  for (auto& [key, grant] : by_key) out.push_back(std::move(grant));
  return out;
}

bool BirthrightPolicy::IsPortable(absl::string_view role) const {
  return portable_roles_.count(role) > 0;
}

std::vector<iam::v1::Prerequisite> MissingPrerequisites(
    const std::vector<iam::v1::Prerequisite>& needed,
    const iam::v1::Person& person) {
  std::vector<iam::v1::Prerequisite> missing;
  for (iam::v1::Prerequisite p : needed) {
    iam::v1::AttestationType want =
        p == iam::v1::PREREQUISITE_SECURITY_AGREEMENT_SIGNED
            ? iam::v1::ATTESTATION_TYPE_SECURITY_AGREEMENT_SIGNED
            : iam::v1::ATTESTATION_TYPE_BACKGROUND_CHECK_PASSED;
    bool has = std::any_of(
        person.attestations().begin(), person.attestations().end(),
        [&](const iam::v1::Attestation& a) { return a.type() == want; });
    if (!has) missing.push_back(p);
  }
  return missing;
}

std::string PrerequisiteText(iam::v1::Prerequisite p) {
  switch (p) {
    case iam::v1::PREREQUISITE_SECURITY_AGREEMENT_SIGNED:
      return "security agreement signed";
    case iam::v1::PREREQUISITE_BACKGROUND_CHECK_PASSED:
      return "background check passed";
    default:
      return "unknown prerequisite";
  }
}

}  // namespace iam::lifecycle
