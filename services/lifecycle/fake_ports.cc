#include "services/lifecycle/fake_ports.h"

#include "absl/strings/str_cat.h"

namespace iam::lifecycle {

absl::Status FakeServices::MaybeFail(const std::string& method) {
  ++calls_[method];
  auto it = fail_.find(method);
  if (it == fail_.end() || it->second == 0) return absl::OkStatus();
  --it->second;
  return absl::UnavailableError(absl::StrCat("fake ", method, " is down"));
}

void FakeServices::FailNext(const std::string& method, int n) {
  absl::MutexLock lock(&mu_);
  fail_[method] = n;
}

absl::StatusOr<iam::v1::Person> FakeServices::Get(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  auto it = people_.find(std::string(id));
  if (it == people_.end()) return absl::NotFoundError(absl::StrCat("no person ", id));
  return it->second;
}

absl::StatusOr<std::pair<iam::v1::Person, Revision>> FakeServices::Create(
    const iam::v1::Person& person, absl::string_view reason) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = MaybeFail("Create"); !s.ok()) return s;
  if (people_.count(person.id())) return absl::AlreadyExistsError(person.id());
  iam::v1::Person p = person;
  p.set_revision(++revision_);
  people_[p.id()] = p;
  reasons_.emplace_back(reason);
  return std::make_pair(p, revision_);
}

absl::StatusOr<std::pair<iam::v1::Person, Revision>> FakeServices::Update(
    const iam::v1::Person& person, const std::vector<std::string>& mask,
    absl::string_view reason) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = MaybeFail("Update"); !s.ok()) return s;
  auto it = people_.find(person.id());
  if (it == people_.end()) return absl::NotFoundError(person.id());
  iam::v1::Person& p = it->second;
  if (p.status() == iam::v1::PERSON_STATUS_LEFT) {
    return absl::FailedPreconditionError("person has left");
  }
  for (const auto& f : mask) {
    if (f == "org_unit") p.set_org_unit(person.org_unit());
    if (f == "job_code") p.set_job_code(person.job_code());
    if (f == "site") p.set_site(person.site());
    if (f == "manager_id") p.set_manager_id(person.manager_id());
    if (f == "status") p.set_status(person.status());
  }
  p.set_revision(++revision_);
  reasons_.emplace_back(reason);
  return std::make_pair(p, revision_);
}

absl::StatusOr<std::pair<iam::v1::Person, Revision>> FakeServices::RecordAttestation(
    absl::string_view id, iam::v1::AttestationType type, absl::string_view reason) {
  absl::MutexLock lock(&mu_);
  auto it = people_.find(std::string(id));
  if (it == people_.end()) return absl::NotFoundError(std::string(id));
  it->second.add_attestations()->set_type(type);
  it->second.set_revision(++revision_);
  reasons_.emplace_back(reason);
  return std::make_pair(it->second, revision_);
}

absl::StatusOr<std::vector<iam::v1::RoleBinding>> FakeServices::ListOf(
    absl::string_view person_id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = MaybeFail("ListOf"); !s.ok()) return s;
  std::vector<iam::v1::RoleBinding> out;
  for (const auto& [id, b] : bindings_) {
    if (b.subject().id() == person_id) out.push_back(b);
  }
  return out;
}

absl::StatusOr<std::pair<iam::v1::RoleBinding, Revision>> FakeServices::Bind(
    const iam::v1::RoleBinding& binding) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = MaybeFail("Bind"); !s.ok()) return s;
  iam::v1::RoleBinding b = binding;
  b.set_id(absl::StrCat("b-", next_binding_++));
  bindings_[b.id()] = b;
  reasons_.push_back(b.reason());
  return std::make_pair(b, ++revision_);
}

absl::StatusOr<Revision> FakeServices::Unbind(absl::string_view id,
                                              absl::string_view reason) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = MaybeFail("Unbind"); !s.ok()) return s;
  if (bindings_.erase(std::string(id)) == 0) return Revision{0};
  reasons_.emplace_back(reason);
  return ++revision_;
}

absl::StatusOr<AccessGrants::Removed> FakeServices::UnbindAllOf(
    absl::string_view person_id, absl::string_view reason) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = MaybeFail("UnbindAllOf"); !s.ok()) return s;
  Removed out;
  for (auto it = bindings_.begin(); it != bindings_.end();) {
    if (it->second.subject().id() == person_id) {
      out.binding_ids.push_back(it->first);
      it = bindings_.erase(it);
    } else {
      ++it;
    }
  }
  if (out.binding_ids.empty()) return out;
  reasons_.emplace_back(reason);
  out.revision = ++revision_;  // one commit for all of them
  return out;
}

absl::StatusOr<CredentialRevoker::Result> FakeServices::Revoke(
    absl::string_view person_id, absl::string_view reason) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = MaybeFail("Revoke"); !s.ok()) return s;
  bool had = passwords_.erase(std::string(person_id)) > 0;
  if (!had) return CredentialRevoker::Result{false, 0};
  reasons_.emplace_back(reason);
  return CredentialRevoker::Result{true, ++revision_};
}

absl::StatusOr<BadgeRevoker::Result> FakeServices::RevokeAll(
    absl::string_view person_id, absl::string_view reason) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = MaybeFail("RevokeAll"); !s.ok()) return s;
  BadgeRevoker::Result r;
  for (auto& [id, badge] : badges_) {
    if (badge.first == person_id && badge.second != "revoked") {
      badge.second = "revoked";
      r.badge_ids.push_back(id);
    }
  }
  if (!r.badge_ids.empty()) {
    r.revision = ++revision_;
    reasons_.emplace_back(reason);
  }
  return r;
}

absl::StatusOr<BadgeRevoker::Result> FakeServices::SuspendAll(
    absl::string_view person_id, absl::string_view reason) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = MaybeFail("SuspendAll"); !s.ok()) return s;
  BadgeRevoker::Result r;
  for (auto& [id, badge] : badges_) {
    if (badge.first == person_id && badge.second == "active") {
      badge.second = "suspended";
      r.badge_ids.push_back(id);
    }
  }
  if (!r.badge_ids.empty()) {
    r.revision = ++revision_;
    reasons_.emplace_back(reason);
  }
  return r;
}

absl::StatusOr<Revision> FakeServices::Resume(absl::string_view badge_id,
                                              absl::string_view reason) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = MaybeFail("Resume"); !s.ok()) return s;
  auto it = badges_.find(std::string(badge_id));
  if (it == badges_.end()) return absl::NotFoundError(std::string(badge_id));
  if (it->second.second != "suspended") {
    return absl::FailedPreconditionError(absl::StrCat("badge is ", it->second.second));
  }
  it->second.second = "active";
  reasons_.emplace_back(reason);
  return ++revision_;
}

bool FakeServices::Allows(absl::string_view person_id, absl::string_view role,
                          absl::string_view scope) {
  absl::MutexLock lock(&mu_);
  auto p = people_.find(std::string(person_id));
  if (p == people_.end() || p->second.status() != iam::v1::PERSON_STATUS_ACTIVE) {
    return false;
  }
  for (const auto& [id, b] : bindings_) {
    if (b.subject().id() == person_id && b.role() == role && b.scope() == scope) {
      return true;
    }
  }
  return false;
}

void FakeServices::AddPerson(iam::v1::Person person) {
  absl::MutexLock lock(&mu_);
  person.set_revision(++revision_);
  people_[person.id()] = person;
}

void FakeServices::SetPassword(absl::string_view person_id) {
  absl::MutexLock lock(&mu_);
  passwords_[std::string(person_id)] = true;
}

bool FakeServices::HasPassword(absl::string_view person_id) {
  absl::MutexLock lock(&mu_);
  return passwords_.count(std::string(person_id)) > 0;
}

std::string FakeServices::IssueBadge(absl::string_view person_id) {
  absl::MutexLock lock(&mu_);
  std::string id = absl::StrCat("badge-", next_badge_++);
  badges_[id] = {std::string(person_id), "active"};
  return id;
}

std::string FakeServices::BadgeState(absl::string_view badge_id) {
  absl::MutexLock lock(&mu_);
  auto it = badges_.find(std::string(badge_id));
  return it == badges_.end() ? "" : it->second.second;
}

int FakeServices::calls(const std::string& method) {
  absl::MutexLock lock(&mu_);
  auto it = calls_.find(method);
  return it == calls_.end() ? 0 : it->second;
}

std::vector<std::string> FakeServices::reasons() {
  absl::MutexLock lock(&mu_);
  return reasons_;
}

Revision FakeServices::revision() {
  absl::MutexLock lock(&mu_);
  return revision_;
}

}  // namespace iam::lifecycle
