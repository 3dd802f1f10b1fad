#include "tests/dataset.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "proto/iam/v1/common.pb.h"

namespace iam::testing {
namespace {

using iam::v1::CheckRequest;
using iam::v1::PersonStatus;
using iam::v1::RoleBinding;
using iam::v1::SubjectKind;

constexpr int64_t kDay = 24 * 60 * 60;
constexpr absl::string_view kRoot = "/";

// Randomness built only on mt19937_64's output, which the standard fixes;
// the std distributions and std::shuffle are not portable between standard
// libraries, and the data set must be the same everywhere.
class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}

  // Uniform in [0, n); 0 when n is 0. The modulo bias is irrelevant here.
  size_t Below(size_t n) { return n == 0 ? 0 : engine_() % n; }
  // Uniform in [lo, hi].
  int Between(int lo, int hi) { return lo + static_cast<int>(Below(hi - lo + 1)); }
  // Uniform in [0, 1).
  double Unit() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Unit() < p; }

  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(v.size())];
  }

  // Index i with probability weights[i] / sum(weights).
  size_t Weighted(const std::vector<double>& weights) {
    double total = 0;
    for (double w : weights) total += w;
    double x = Unit() * total;
    for (size_t i = 0; i < weights.size(); ++i) {
      if (x < weights[i]) return i;
      x -= weights[i];
    }
    return weights.size() - 1;
  }

  template <typename T>
  void Shuffle(std::vector<T>* v) {
    for (size_t i = v->size(); i > 1; --i) std::swap((*v)[i - 1], (*v)[Below(i)]);
  }

 private:
  std::mt19937_64 engine_;
};

constexpr const char* kSystems[] = {"mes",  "burning", "wms", "prodsrv",
                                    "qms",  "plm",     "erp", "scada",
                                    "aoi",  "spc",     "tms", "edms"};
constexpr const char* kResources[] = {
    "work_order", "routing",    "operation",      "defect",   "quality_hold",
    "traceability", "equipment", "recipe",        "firmware", "firmware_image",
    "station",    "key_material", "inventory",    "shipment", "material",
    "host",       "backup",     "report",         "label",    "calibration"};
constexpr const char* kActions[] = {"view",    "create",  "edit",    "delete",
                                    "approve", "release", "close",   "execute",
                                    "export",  "import",  "configure", "audit"};
constexpr const char* kAreas[] = {"burning", "server_room", "key_parts",
                                  "warehouse"};

// Scope paths of one site, by level below the root.
struct SiteScopes {
  std::string site;                 // level 1
  std::vector<std::string> middle;  // level 2: lines and areas
  std::vector<std::string> leaves;  // level 3: cells and stations
};

absl::string_view ParentOf(absl::string_view path) {
  size_t last = path.rfind('/');
  if (last == absl::string_view::npos) return kRoot;
  size_t kind = path.rfind('/', last - 1);
  if (kind == absl::string_view::npos) return kRoot;
  return path.substr(0, kind);
}

std::vector<std::string> MakePermissions(int count, Random& rng) {
  std::vector<std::string> all;
  // The vocabulary gives 2,880 names; beyond that, versioned resources.
  for (int generation = 1; static_cast<int>(all.size()) < count; ++generation) {
    for (const char* system : kSystems) {
      for (const char* resource : kResources) {
        for (const char* action : kActions) {
          all.push_back(generation == 1
                            ? absl::StrCat(system, ".", resource, ":", action)
                            : absl::StrCat(system, ".", resource, "_v",
                                           generation, ":", action));
        }
      }
    }
  }
  rng.Shuffle(&all);
  all.resize(std::max(count, 0));
  std::sort(all.begin(), all.end());
  return all;
}

// Splits `roles` into `depth` tiers, larger at the bottom, none empty.
std::vector<int> TierSizes(int roles, int depth) {
  std::vector<int> sizes(depth, 1);
  int weight_sum = 0;
  for (int t = 0; t < depth; ++t) weight_sum += depth - t + 1;
  int assigned = depth;
  for (int t = 0; t < depth; ++t) {
    int extra = (roles - depth) * (depth - t + 1) / weight_sum;
    sizes[t] += extra;
    assigned += extra;
  }
  sizes[0] += roles - assigned;
  return sizes;
}

void AddScope(const std::string& path, absl::string_view description,
              iam::v1::PolicyDocument* policy) {
  iam::v1::Scope* scope = policy->add_scopes();
  scope->set_path(path);
  scope->set_description(std::string(description));
}

}  // namespace

bool ScopeCovers(absl::string_view ancestor, absl::string_view path) {
  if (ancestor == kRoot) return true;
  if (path.size() < ancestor.size() || path.substr(0, ancestor.size()) != ancestor) {
    return false;
  }
  return path.size() == ancestor.size() || path[ancestor.size()] == '/';
}

Dataset GenerateDataset(const DatasetOptions& options) {
  Random rng(options.seed);
  Dataset data;
  iam::v1::PolicyDocument& policy = data.policy;

  // Permissions, grouped by system for the roles to draw from.
  const std::vector<std::string> permissions =
      MakePermissions(options.permissions, rng);
  std::map<std::string, std::vector<std::string>> by_system;
  for (const std::string& name : permissions) {
    iam::v1::Permission* p = policy.add_permissions();
    p->set_name(name);
    const std::string system = name.substr(0, name.find('.'));
    p->set_description(absl::StrCat("Generated permission of ", system, "."));
    by_system[system].push_back(name);
  }

  // Roles in tiers: tier t inherits from tier t-1 and maybe lower.
  const int depth = std::max(1, std::min(options.max_inheritance_depth, options.roles));
  std::vector<std::vector<std::string>> tiers(depth);
  if (options.roles > 0) {
    const std::vector<int> sizes = TierSizes(options.roles, depth);
    int next = 0;
    for (int t = 0; t < depth; ++t) {
      for (int i = 0; i < sizes[t]; ++i) {
        const std::string name = absl::StrFormat("role_t%d_%03d", t + 1, next++);
        tiers[t].push_back(name);
        iam::v1::Role* role = policy.add_roles();
        role->set_name(name);
        const char* system = kSystems[rng.Below(std::size(kSystems))];
        role->set_description(
            absl::StrCat("Generated tier-", t + 1, " role, mostly ", system, "."));
        const std::vector<std::string>& home =
            by_system.count(system) ? by_system[system] : permissions;
        std::set<std::string> granted;
        const int wanted = t == 0 ? rng.Between(4, 12) : rng.Between(1, 4);
        for (int attempt = 0; attempt < 4 * wanted &&
                              static_cast<int>(granted.size()) < wanted &&
                              !permissions.empty();
             ++attempt) {
          const std::string& p =
              rng.Chance(0.8) ? rng.Pick(home) : rng.Pick(permissions);
          if (granted.insert(p).second) role->add_permissions(p);
        }
        if (t > 0) {
          std::set<std::string> inherited;
          inherited.insert(rng.Pick(tiers[t - 1]));
          const int extra = rng.Between(0, 2);
          for (int e = 0; e < extra; ++e) {
            inherited.insert(rng.Pick(tiers[rng.Below(t)]));
          }
          // Tier t-1 first: the chain that sets the depth reads first.
          std::vector<std::string> ordered(inherited.begin(), inherited.end());
          std::stable_partition(ordered.begin(), ordered.end(),
                                [&](const std::string& r) {
                                  return r.rfind(absl::StrCat("role_t", t, "_"), 0) == 0;
                                });
          for (const std::string& r : ordered) role->add_inherits(r);
        }
      }
    }
  }

  // Scopes, parents first.
  std::vector<SiteScopes> sites(std::max(options.sites, 0));
  for (int s = 0; s < options.sites; ++s) {
    SiteScopes& site = sites[s];
    site.site = absl::StrCat("site/s", s + 1);
    AddScope(site.site, absl::StrCat("Generated site ", s + 1, "."), &policy);
    for (int l = 1; l <= options.lines_per_site; ++l) {
      const std::string line = absl::StrCat(site.site, "/line/", l);
      AddScope(line, absl::StrCat("Line ", l, " of site ", s + 1, "."), &policy);
      site.middle.push_back(line);
      for (int c = 1; c <= options.cells_per_line; ++c) {
        const std::string cell = absl::StrCat(line, "/cell/", c);
        AddScope(cell, absl::StrCat("Cell ", c, " of line ", l, "."), &policy);
        site.leaves.push_back(cell);
      }
    }
    for (const char* name : kAreas) {
      const std::string area = absl::StrCat(site.site, "/area/", name);
      AddScope(area, absl::StrCat("Key area ", name, " of site ", s + 1, "."), &policy);
      site.middle.push_back(area);
      for (int c = 1; c <= options.cells_per_line; ++c) {
        const std::string station = absl::StrCat(area, "/station/", c);
        AddScope(station, absl::StrCat("Station ", c, " of area ", name, "."), &policy);
        site.leaves.push_back(station);
      }
    }
  }

  // People and their groups.
  std::vector<std::string> groups;
  for (int g = 0; g < options.groups; ++g) groups.push_back(absl::StrFormat("group_%02d", g));
  data.subjects.reserve(std::max(options.people, 0));
  for (int i = 0; i < options.people; ++i) {
    iam::v1::SyncSubjectRequest& subject = data.subjects.emplace_back();
    subject.set_person_id(absl::StrFormat("p%06d", i));
    PersonStatus status = iam::v1::PERSON_STATUS_ACTIVE;
    if (rng.Chance(options.inactive_fraction)) {
      static constexpr PersonStatus kInactive[] = {iam::v1::PERSON_STATUS_PENDING,
                                                   iam::v1::PERSON_STATUS_SUSPENDED,
                                                   iam::v1::PERSON_STATUS_LEFT};
      status = kInactive[rng.Below(3)];
    }
    subject.set_status(status);
    if (!groups.empty()) {
      const double u = rng.Unit();
      const int count = u < 0.30 ? 1 : u < 0.35 ? 2 : 0;
      std::set<std::string> chosen;
      for (int g = 0; g < count; ++g) chosen.insert(rng.Pick(groups));
      for (const std::string& g : chosen) subject.add_groups(g);
    }
  }

  // Bindings.
  // Most bindings hold basic roles; few hold the composite ones at the top.
  static constexpr double kTierShare[] = {45, 25, 15, 10};
  std::vector<double> tier_weights;
  for (int t = 0; t < depth; ++t) tier_weights.push_back(t < 4 ? kTierShare[t] : 5);
  int next_binding = 1;
  auto add_binding = [&](SubjectKind kind, const std::string& id,
                         const std::string& role, const std::string& scope) {
    RoleBinding& b = data.bindings.emplace_back();
    b.set_id(absl::StrFormat("b%07d", next_binding));
    b.mutable_subject()->set_kind(kind);
    b.mutable_subject()->set_id(id);
    b.set_role(role);
    b.set_scope(scope);
    b.set_reason(absl::StrFormat("HR-%06d: generated", next_binding));
    b.set_created_by("dataset");
    const double u = rng.Unit();
    if (u < options.expired_binding_fraction) {
      b.set_expires_at_unix(kDatasetNowUnix - rng.Between(1, 700) * kDay);
      b.set_created_at_unix(b.expires_at_unix() - rng.Between(30, 365) * kDay);
    } else {
      if (u < options.expired_binding_fraction + options.timed_binding_fraction) {
        b.set_expires_at_unix(kDatasetNowUnix + rng.Between(20 * 365, 40 * 365) * kDay);
      }
      b.set_created_at_unix(kDatasetNowUnix - rng.Between(1, 1000) * kDay);
    }
    ++next_binding;
  };
  auto pick_scope = [&](const SiteScopes& site, std::vector<double> level_weights) {
    switch (rng.Weighted(level_weights)) {
      case 0:
        return site.site;
      case 1:
        return site.middle.empty() ? site.site : rng.Pick(site.middle);
      default:
        return site.leaves.empty() ? site.site : rng.Pick(site.leaves);
    }
  };
  if (options.roles > 0) {
    for (const iam::v1::SyncSubjectRequest& subject : data.subjects) {
      const size_t home = rng.Below(sites.size());
      const int count = rng.Between(1, 3);
      for (int k = 0; k < count; ++k) {
        const std::string& role = rng.Pick(tiers[rng.Weighted(tier_weights)]);
        std::string scope(kRoot);
        if (!sites.empty() && !rng.Chance(0.002)) {
          const SiteScopes& site = rng.Chance(0.9) ? sites[home] : rng.Pick(sites);
          scope = pick_scope(site, {0.15, 0.55, 0.30});
        }
        add_binding(iam::v1::SUBJECT_KIND_PERSON, subject.person_id(), role, scope);
      }
    }
    for (const std::string& group : groups) {
      const int count = rng.Between(1, 2);
      for (int k = 0; k < count; ++k) {
        const std::string& role = rng.Pick(tiers[rng.Below(std::min(depth, 2))]);
        std::string scope(kRoot);
        if (!sites.empty()) scope = pick_scope(rng.Pick(sites), {0.4, 0.6, 0.0});
        add_binding(iam::v1::SUBJECT_KIND_GROUP, group, role, scope);
      }
    }
  }
  return data;
}

// ---------------------------------------------------------------------------
// ReferenceAuthorizer

ReferenceAuthorizer::ReferenceAuthorizer(const Dataset& dataset) : dataset_(dataset) {
  for (const auto& p : dataset.policy.permissions()) permissions_.insert(p.name());
  for (const auto& s : dataset.policy.scopes()) scopes_.insert(s.path());
  absl::flat_hash_map<std::string, const iam::v1::Role*> roles;
  for (const auto& r : dataset.policy.roles()) roles.emplace(r.name(), &r);
  for (const auto& r : dataset.policy.roles()) {
    absl::flat_hash_set<std::string>& granted = role_permissions_[r.name()];
    absl::flat_hash_set<std::string> visited = {r.name()};
    std::vector<const iam::v1::Role*> pending = {&r};
    while (!pending.empty()) {
      const iam::v1::Role* role = pending.back();
      pending.pop_back();
      granted.insert(role->permissions().begin(), role->permissions().end());
      for (const std::string& parent : role->inherits()) {
        auto it = roles.find(parent);
        if (it != roles.end() && visited.insert(parent).second) {
          pending.push_back(it->second);
        }
      }
    }
  }
  for (const auto& s : dataset.subjects) subjects_.emplace(s.person_id(), &s);
  for (const RoleBinding& b : dataset.bindings) {
    if (b.subject().kind() == iam::v1::SUBJECT_KIND_PERSON) {
      person_bindings_[b.subject().id()].push_back(&b);
    } else if (b.subject().kind() == iam::v1::SUBJECT_KIND_GROUP) {
      group_bindings_[b.subject().id()].push_back(&b);
    }
  }
}

const absl::flat_hash_set<std::string>& ReferenceAuthorizer::RolePermissions(
    absl::string_view role) const {
  static const auto* const kNone = new absl::flat_hash_set<std::string>();
  auto it = role_permissions_.find(role);
  return it == role_permissions_.end() ? *kNone : it->second;
}

std::vector<const RoleBinding*> ReferenceAuthorizer::BindingsOf(
    absl::string_view person_id) const {
  std::vector<const RoleBinding*> out;
  if (auto it = person_bindings_.find(person_id); it != person_bindings_.end()) {
    out = it->second;
  }
  if (auto s = subjects_.find(person_id); s != subjects_.end()) {
    for (const std::string& group : s->second->groups()) {
      if (auto it = group_bindings_.find(group); it != group_bindings_.end()) {
        out.insert(out.end(), it->second.begin(), it->second.end());
      }
    }
  }
  return out;
}

bool ReferenceAuthorizer::IsActive(absl::string_view person_id) const {
  auto it = subjects_.find(person_id);
  return it != subjects_.end() &&
         it->second->status() == iam::v1::PERSON_STATUS_ACTIVE;
}

bool ReferenceAuthorizer::Allows(const CheckRequest& check, int64_t now_unix) const {
  if (!IsActive(check.person_id())) return false;
  if (!permissions_.contains(check.permission())) return false;
  if (check.scope() != kRoot && !scopes_.contains(check.scope())) return false;
  for (const RoleBinding* b : BindingsOf(check.person_id())) {
    if (b->expires_at_unix() != 0 && now_unix >= b->expires_at_unix()) continue;
    if (!ScopeCovers(b->scope(), check.scope())) continue;
    if (RolePermissions(b->role()).contains(check.permission())) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Checks

absl::string_view CheckKindName(CheckKind kind) {
  switch (kind) {
    case CheckKind::kGranted:
      return "granted";
    case CheckKind::kNotGranted:
      return "not_granted";
    case CheckKind::kOutOfScope:
      return "out_of_scope";
    case CheckKind::kUnknownPerson:
      return "unknown_person";
    case CheckKind::kInactivePerson:
      return "inactive_person";
    case CheckKind::kUnknownPermission:
      return "unknown_permission";
    case CheckKind::kUnknownScope:
      return "unknown_scope";
    case CheckKind::kExpiredBinding:
      return "expired_binding";
  }
  return "?";
}

namespace {

// What the check builders draw from, in deterministic orders.
class CheckFactory {
 public:
  CheckFactory(const Dataset& data, const ReferenceAuthorizer& oracle)
      : data_(data) {
    for (const auto& p : data.policy.permissions()) permissions_.push_back(p.name());
    for (const auto& r : data.policy.roles()) {
      const auto& set = oracle.RolePermissions(r.name());
      std::vector<std::string>& sorted = role_permissions_[r.name()];
      sorted.assign(set.begin(), set.end());
      std::sort(sorted.begin(), sorted.end());
    }
    children_[std::string(kRoot)];
    for (const auto& s : data.policy.scopes()) {
      scopes_.push_back(s.path());
      children_[std::string(ParentOf(s.path()))].push_back(s.path());
    }
    for (const auto& s : data.subjects) {
      const bool active = s.status() == iam::v1::PERSON_STATUS_ACTIVE;
      for (const RoleBinding* b : oracle.BindingsOf(s.person_id())) {
        if (role_permissions_[b->role()].empty()) continue;
        const bool expired =
            b->expires_at_unix() != 0 && kDatasetNowUnix >= b->expires_at_unix();
        if (!active) {
          if (!expired) inactive_grants_.push_back({s.person_id(), b});
        } else if (expired) {
          expired_grants_.push_back({s.person_id(), b});
        } else {
          grants_.push_back({s.person_id(), b});
        }
      }
    }
  }

  bool HasInactive() const { return !inactive_grants_.empty(); }
  bool HasExpired() const { return !expired_grants_.empty(); }
  bool HasGrants() const { return !grants_.empty(); }

  CheckRequest Build(CheckKind kind, Random& rng) const {
    CheckRequest check;
    switch (kind) {
      case CheckKind::kGranted:
        return FromGrant(rng.Pick(grants_), rng);
      case CheckKind::kNotGranted: {
        check = FromGrant(rng.Pick(grants_), rng);
        check.set_permission(rng.Pick(permissions_));
        return check;
      }
      case CheckKind::kOutOfScope: {
        check = FromGrant(rng.Pick(grants_), rng);
        check.set_scope(rng.Pick(scopes_));
        return check;
      }
      case CheckKind::kUnknownPerson: {
        check = FromGrant(rng.Pick(grants_), rng);
        check.set_person_id(absl::StrFormat(
            "p%06d", data_.subjects.size() + rng.Below(1000000)));
        return check;
      }
      case CheckKind::kInactivePerson:
        return FromGrant(rng.Pick(inactive_grants_), rng);
      case CheckKind::kUnknownPermission: {
        check = FromGrant(rng.Pick(grants_), rng);
        const std::string& p = check.permission();
        check.set_permission(absl::StrCat(p.substr(0, p.find(':')), ":teleport"));
        return check;
      }
      case CheckKind::kUnknownScope: {
        check = FromGrant(rng.Pick(grants_), rng);
        // Below a declared scope (at most 6 segments), so still well formed.
        const std::string base = check.scope() == kRoot ? "site/s1" : check.scope();
        check.set_scope(absl::StrCat(base, "/bench/", rng.Between(1, 99)));
        return check;
      }
      case CheckKind::kExpiredBinding:
        return FromGrant(rng.Pick(expired_grants_), rng);
    }
    return check;
  }

 private:
  struct Grant {
    std::string person_id;
    const RoleBinding* binding;
  };

  // A permission of the grant's role at the grant's scope or up to two
  // levels below it.
  CheckRequest FromGrant(const Grant& grant, Random& rng) const {
    CheckRequest check;
    check.set_person_id(grant.person_id);
    check.set_permission(rng.Pick(role_permissions_.at(grant.binding->role())));
    std::string scope = grant.binding->scope();
    for (int steps = rng.Between(0, 2); steps > 0; --steps) {
      auto it = children_.find(scope);
      if (it == children_.end() || it->second.empty()) break;
      scope = rng.Pick(it->second);
    }
    check.set_scope(scope);
    return check;
  }

  const Dataset& data_;
  std::vector<std::string> permissions_;
  std::vector<std::string> scopes_;
  std::map<std::string, std::vector<std::string>> role_permissions_;
  std::map<std::string, std::vector<std::string>> children_;
  std::vector<Grant> grants_;
  std::vector<Grant> inactive_grants_;
  std::vector<Grant> expired_grants_;
};

}  // namespace

std::vector<LabeledCheck> GenerateLabeledChecks(const Dataset& dataset, int n,
                                                uint64_t seed) {
  std::vector<LabeledCheck> checks;
  if (n <= 0) return checks;
  Random rng(seed);
  ReferenceAuthorizer oracle(dataset);
  CheckFactory factory(dataset, oracle);
  if (!factory.HasGrants()) {
    // Nothing can be allowed: every check is about an unknown person.
    for (int i = 0; i < n; ++i) {
      LabeledCheck& c = checks.emplace_back();
      c.request.set_person_id(absl::StrFormat("p%06d", dataset.subjects.size() + i));
      c.request.set_permission("mes.work_order:view");
      c.request.set_scope(std::string(kRoot));
      c.kind = CheckKind::kUnknownPerson;
      c.expected_allowed = false;
    }
    return checks;
  }
  const std::vector<std::pair<CheckKind, double>> mix = {
      {CheckKind::kGranted, 0.50},        {CheckKind::kNotGranted, 0.14},
      {CheckKind::kOutOfScope, 0.14},     {CheckKind::kUnknownPerson, 0.04},
      {CheckKind::kInactivePerson, 0.04}, {CheckKind::kUnknownPermission, 0.05},
      {CheckKind::kUnknownScope, 0.04},   {CheckKind::kExpiredBinding, 0.05}};
  std::vector<double> weights;
  for (const auto& [kind, weight] : mix) weights.push_back(weight);
  checks.reserve(n);
  for (int i = 0; i < n; ++i) {
    CheckKind kind = mix[rng.Weighted(weights)].first;
    if (kind == CheckKind::kInactivePerson && !factory.HasInactive()) {
      kind = CheckKind::kNotGranted;
    }
    if (kind == CheckKind::kExpiredBinding && !factory.HasExpired()) {
      kind = CheckKind::kOutOfScope;
    }
    const bool want_allowed = kind == CheckKind::kGranted;
    LabeledCheck check;
    check.kind = kind;
    // A denial built at random may be allowed by another of the person's
    // bindings; try a few times for one that is denied, as intended.
    for (int attempt = 0; attempt < 8; ++attempt) {
      check.request = factory.Build(kind, rng);
      check.expected_allowed = oracle.Allows(check.request);
      if (check.expected_allowed == want_allowed) break;
    }
    checks.push_back(std::move(check));
  }
  return checks;
}

std::vector<CheckRequest> GenerateChecks(const Dataset& dataset, int n,
                                         uint64_t seed) {
  std::vector<CheckRequest> requests;
  for (LabeledCheck& c : GenerateLabeledChecks(dataset, n, seed)) {
    requests.push_back(std::move(c.request));
  }
  return requests;
}

}  // namespace iam::testing
