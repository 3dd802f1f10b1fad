#include "services/password/password_manager.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>

#include "absl/hash/hash.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/status_macros.h"
#include "services/password/password_policy.h"

namespace iam::password {
namespace {

constexpr absl::string_view kCredPrefix = "cred/";
constexpr absl::string_view kPolicyKey = "policy";
constexpr size_t kMaxIdLength = 64;
constexpr size_t kMaxSourceLength = 128;

std::string CredKey(absl::string_view id) { return absl::StrCat(kCredPrefix, id); }

absl::Status ValidatePersonId(absl::string_view id) {
  bool ok = !id.empty() && id.size() <= kMaxIdLength;
  for (char c : id) {
    ok = ok && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
                c == '_' || c == ':' || c == '-');
  }
  // The id is not quoted: people type passwords into the id field.
  if (!ok) {
    return absl::InvalidArgumentError(
        "person_id must be 1-64 characters of A-Z a-z 0-9 . _ : -");
  }
  return absl::OkStatus();
}

absl::Status ValidateSource(absl::string_view source) {
  bool ok = !source.empty() && source.size() <= kMaxSourceLength;
  for (char c : source) ok = ok && c > 0x20 && c < 0x7f;
  if (!ok) {
    return absl::InvalidArgumentError(
        "source (the address the person logs in from) is required: 1-128 "
        "printable ASCII characters without spaces");
  }
  return absl::OkStatus();
}

FailureState StateOf(const iam::password::internal::StoredCredential& c) {
  FailureState s;
  s.failures = c.failures();
  s.lockouts = c.lockouts();
  s.locked_until = c.locked_until_unix() == 0
                       ? absl::InfinitePast()
                       : absl::FromUnixSeconds(c.locked_until_unix());
  return s;
}

void SetState(const FailureState& s,
              iam::password::internal::StoredCredential* c) {
  c->set_failures(s.failures);
  c->set_lockouts(s.lockouts);
  c->set_locked_until_unix(s.locked_until == absl::InfinitePast()
                               ? 0
                               : absl::ToUnixSeconds(s.locked_until));
}

absl::Status Rejected(const std::vector<std::string>& problems,
                      absl::string_view field) {
  return absl::InvalidArgumentError(absl::StrCat(
      "the password policy rejects ", field, ": ", absl::StrJoin(problems, "; ")));
}

}  // namespace

PasswordManager::PasswordManager(Store* store, const Clock* clock, Options options)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      limiter_(options_.max_tracked_sources),
      phantoms_(options_.max_tracked_unknown_ids) {}

absl::StatusOr<std::unique_ptr<PasswordManager>> PasswordManager::Open(
    Store* store, const Clock* clock, Options options) {
  std::unique_ptr<PasswordManager> m(
      new PasswordManager(store, clock, std::move(options)));
  iam::v1::PasswordPolicy configured;
  bool defaults_only = true;
  absl::StatusOr<std::string> stored = store->Get(kPasswordColumn, kPolicyKey);
  if (stored.ok()) {
    if (!configured.ParseFromString(*stored)) {
      return absl::DataLossError(
          "the stored password policy is unreadable; apply the policy again "
          "(iamd --apply_policy)");
    }
    defaults_only = false;
  } else if (!absl::IsNotFound(stored.status())) {
    return stored.status();
  }
  absl::MutexLock write(&m->policy_write_mu_);
  ASSIGN_OR_RETURN(std::shared_ptr<const PolicyState> state,
                   m->BuildState(configured, defaults_only));
  absl::MutexLock lock(&m->mu_);
  m->state_ = std::move(state);
  return m;
}

absl::StatusOr<std::shared_ptr<const PasswordManager::PolicyState>>
PasswordManager::BuildState(const iam::v1::PasswordPolicy& configured,
                            bool defaults_only) {
  RETURN_IF_ERROR(CheckPasswordPolicy(configured));
  auto ps = std::make_shared<PolicyState>();
  ps->configured = configured;
  ps->effective = EffectivePolicy(configured);
  ps->defaults_only = defaults_only;
  if (ps->effective.check_cracklib() && cracklib_ == nullptr) {
    ASSIGN_OR_RETURN(cracklib_, CracklibBlocklist::Open(options_.cracklib_dict));
  }
  ps->checker = std::make_unique<PasswordPolicyChecker>(ps->effective, cracklib_.get());
  ps->params = Argon2Params::From(ps->effective.argon2());
  ps->lockout = LockoutRule::From(ps->effective);
  ps->source_rate.per_minute = ps->effective.source_failures_per_minute();
  ps->source_rate.burst = ps->effective.source_failure_burst();
  unsigned char random[32];
  if (RAND_bytes(random, sizeof(random)) != 1) {
    return absl::InternalError("the random number generator failed");
  }
  absl::StatusOr<std::string> dummy = HashPassword(
      absl::string_view(reinterpret_cast<const char*>(random), sizeof(random)),
      ps->params);
  OPENSSL_cleanse(random, sizeof(random));
  if (!dummy.ok()) return dummy.status();
  ps->dummy_phc = std::move(*dummy);
  return std::shared_ptr<const PolicyState>(std::move(ps));
}

std::shared_ptr<const PasswordManager::PolicyState> PasswordManager::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

PasswordManager::PolicyView PasswordManager::policy() const {
  std::shared_ptr<const PolicyState> ps = state();
  return PolicyView{ps->configured, ps->effective, ps->defaults_only};
}

absl::StatusOr<Revision> PasswordManager::SetPolicy(
    const iam::v1::PasswordPolicy& configured, const CommitFn& commit) {
  absl::MutexLock write(&policy_write_mu_);
  ASSIGN_OR_RETURN(std::shared_ptr<const PolicyState> next,
                   BuildState(configured, /*defaults_only=*/false));
  WriteBatch batch;
  batch.Put(kPasswordColumn, kPolicyKey, configured.SerializeAsString());
  ASSIGN_OR_RETURN(Revision revision, CommitThrough(commit, *store_, batch));
  absl::MutexLock lock(&mu_);
  state_ = std::move(next);
  return revision;
}

absl::StatusOr<absl::optional<PasswordManager::Credential>> PasswordManager::Load(
    absl::string_view id) const {
  absl::StatusOr<std::string> raw = store_->Get(kPasswordColumn, CredKey(id));
  if (absl::IsNotFound(raw.status())) return absl::optional<Credential>();
  if (!raw.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot read the password store: ", raw.status().message()));
  }
  Credential cred;
  if (!cred.ParseFromString(*raw) || cred.phc().empty()) {
    return absl::DataLossError(absl::StrCat(
        "the stored password record of person '", id,
        "' is unreadable; set a new password for them (iamctl password set)"));
  }
  return absl::optional<Credential>(std::move(cred));
}

absl::Mutex& PasswordManager::LockFor(absl::string_view id) {
  return person_locks_[absl::Hash<absl::string_view>()(id) % person_locks_.size()];
}

absl::StatusOr<PersonRecord> PasswordManager::LookupPerson(absl::string_view id) {
  PersonDirectory* directory = directory_.load();
  if (directory == nullptr) {
    return absl::UnavailableError("the server is starting; retry");
  }
  return directory->Get(id);
}

PasswordManager::AuthOutcome PasswordManager::Fail(
    const PolicyState& ps, absl::string_view id, absl::string_view source,
    const std::string& verified_phc, bool stored, absl::Time now,
    const char* detail) {
  limiter_.RecordFailure(source, ps.source_rate, now);
  AuthOutcome out;
  out.result = iam::v1::AUTH_RESULT_BAD_CREDENTIALS;
  out.detail = detail;
  FailureState s;
  bool started = false;
  {
    absl::MutexLock lock(&LockFor(id));
    absl::StatusOr<absl::optional<Credential>> cred =
        stored ? Load(id) : absl::optional<Credential>();
    if (stored && cred.ok() && cred->has_value() &&
        (*cred)->phc() == verified_phc) {
      s = StateOf(**cred);
      started = RecordFailure(ps.lockout, now, &s);
      SetState(s, &**cred);
      WriteBatch batch;
      batch.Put(kPasswordColumn, CredKey(id), (*cred)->SerializeAsString());
      // Unsynced: a counter lost in a crash costs an attacker's few extra
      // tries, while a sync per failure would hand them a cheap way to load
      // the disk.
      absl::Status written = store_->WriteUnsynced(batch);
      if (!written.ok()) out.detail += " (failure count not stored)";
    } else if (!stored) {
      s = phantoms_.Get(id);
      started = RecordFailure(ps.lockout, now, &s);
      phantoms_.Put(id, s, now);
    }
  }
  if (started) {
    out.result = iam::v1::AUTH_RESULT_LOCKED;
    out.locked_until = s.locked_until;
    absl::StrAppend(&out.detail, "; lockout ", s.lockouts, " started");
  }
  return out;
}

absl::StatusOr<PasswordManager::AuthOutcome> PasswordManager::Attempt(
    const PolicyState& ps, absl::string_view id, const NormalizedPassword& password,
    absl::string_view source, PersonRecord* person) {
  const absl::Time now = clock_->Now();
  absl::Time retry_at;
  if (!limiter_.Allowed(source, ps.source_rate, now, &retry_at)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "too many failed logins from source '", source, "'; retry after ",
        absl::FormatTime(absl::RFC3339_sec, retry_at, absl::UTCTimeZone())));
  }
  ASSIGN_OR_RETURN(absl::optional<Credential> cred, Load(id));
  const FailureState fs = cred ? StateOf(*cred) : phantoms_.Get(id);
  if (IsLocked(fs, now)) {
    AuthOutcome out;
    out.result = iam::v1::AUTH_RESULT_LOCKED;
    out.locked_until = fs.locked_until;
    out.detail = "locked out";
    return out;
  }
  const std::string& phc = cred ? cred->phc() : ps.dummy_phc;
  ASSIGN_OR_RETURN(bool match, VerifyPassword(phc, password.text.reveal()));
  if (!cred) return Fail(ps, id, source, phc, false, now, "no password set");
  if (!match) return Fail(ps, id, source, phc, true, now, "wrong password");

  absl::StatusOr<PersonRecord> found = LookupPerson(id);
  AuthOutcome out;
  if (absl::IsNotFound(found.status())) {
    out.result = iam::v1::AUTH_RESULT_NOT_ACTIVE;
    out.detail = "right password, but the identity service does not know the person";
    return out;
  }
  if (!found.ok()) return found.status();
  if (found->status != iam::v1::PERSON_STATUS_ACTIVE) {
    out.result = iam::v1::AUTH_RESULT_NOT_ACTIVE;
    out.detail = absl::StrCat("right password, but the person is ",
                              iam::v1::PersonStatus_Name(found->status));
    return out;
  }
  *person = *found;

  // Success: clear the failures; upgrade the hash if the policy's
  // parameters changed since it was made.
  absl::StatusOr<Argon2Params> made_with = ParsePhcParams(phc);
  const bool rehash = made_with.ok() && *made_with != ps.params;
  std::string new_phc;
  if (rehash) {
    ASSIGN_OR_RETURN(new_phc, HashPassword(password.text.reveal(), ps.params));
  }
  absl::MutexLock lock(&LockFor(id));
  ASSIGN_OR_RETURN(absl::optional<Credential> now_cred, Load(id));
  if (!now_cred || now_cred->phc() != phc) {
    // Changed or revoked while we hashed: the password we checked is gone.
    out.result = iam::v1::AUTH_RESULT_BAD_CREDENTIALS;
    out.detail = "password changed during the login";
    return out;
  }
  SetState(FailureState{}, &*now_cred);
  now_cred->set_last_login_unix(absl::ToUnixSeconds(now));
  if (rehash) now_cred->set_phc(new_phc);
  WriteBatch batch;
  batch.Put(kPasswordColumn, CredKey(id), now_cred->SerializeAsString());
  if (rehash) {
    ASSIGN_OR_RETURN(out.revision, store_->Commit(batch));
    out.detail = "re-hashed with the current Argon2id parameters";
  } else {
    // The login itself is not lost if this is: a crash may only forget the
    // cleared failure count and the last-login time.
    RETURN_IF_ERROR(store_->WriteUnsynced(batch));
  }
  const uint32_t max_age_days = ps.effective.max_age_days();
  const bool expired =
      max_age_days > 0 &&
      now > absl::FromUnixSeconds(now_cred->changed_at_unix()) +
                absl::Hours(24) * static_cast<int64_t>(max_age_days);
  if (now_cred->must_change() || expired) {
    out.result = iam::v1::AUTH_RESULT_MUST_CHANGE;
    if (!out.detail.empty()) out.detail += "; ";
    out.detail += now_cred->must_change() ? "must change the password set by an admin"
                                          : "password older than max_age_days";
  } else {
    out.result = iam::v1::AUTH_RESULT_OK;
  }
  return out;
}

absl::StatusOr<PasswordManager::AuthOutcome> PasswordManager::Authenticate(
    absl::string_view person_id, absl::string_view password,
    absl::string_view source) {
  RETURN_IF_ERROR(ValidatePersonId(person_id));
  RETURN_IF_ERROR(ValidateSource(source));
  ASSIGN_OR_RETURN(NormalizedPassword normal, NormalizePassword(password, "password"));
  PersonRecord person;
  return Attempt(*state(), person_id, normal, source, &person);
}

absl::Status PasswordManager::CheckHistory(const PolicyState& ps,
                                           const absl::optional<Credential>& cred,
                                           const NormalizedPassword& password) const {
  const int n = static_cast<int>(ps.effective.history_size());
  if (!cred || n == 0) return absl::OkStatus();
  std::vector<const std::string*> recent = {&cred->phc()};
  for (int i = 0; i < cred->history_size() && static_cast<int>(recent.size()) < n; ++i) {
    recent.push_back(&cred->history(i));
  }
  for (const std::string* phc : recent) {
    absl::StatusOr<bool> match = VerifyPassword(*phc, password.text.reveal());
    // A malformed old hash cannot match; the current one is checked on login.
    if (match.ok() && *match) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the password policy rejects it: it is one of the last ", n,
          " passwords of this person; choose a new one"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Revision> PasswordManager::Replace(
    const PolicyState& ps, absl::string_view id,
    const absl::optional<Credential>& expected, std::string new_phc,
    bool must_change, absl::string_view changed_by, const CommitFn& commit) {
  absl::MutexLock lock(&LockFor(id));
  ASSIGN_OR_RETURN(absl::optional<Credential> cred, Load(id));
  const bool same = expected.has_value() == cred.has_value() &&
                    (!cred || cred->phc() == expected->phc());
  if (!same) {
    return absl::AbortedError(
        "the person's password changed while this request was checked; retry");
  }
  Credential next;
  next.set_phc(std::move(new_phc));
  const int keep = std::max(0, static_cast<int>(ps.effective.history_size()) - 1);
  if (cred && keep > 0) {
    next.add_history(cred->phc());
    for (int i = 0; i < cred->history_size() && next.history_size() < keep; ++i) {
      next.add_history(cred->history(i));
    }
  }
  next.set_must_change(must_change);
  next.set_changed_at_unix(absl::ToUnixSeconds(clock_->Now()));
  next.set_changed_by(std::string(changed_by));
  if (cred) next.set_last_login_unix(cred->last_login_unix());
  WriteBatch batch;
  batch.Put(kPasswordColumn, CredKey(id), next.SerializeAsString());
  ASSIGN_OR_RETURN(Revision revision, CommitThrough(commit, *store_, batch));
  phantoms_.Erase(id);
  return revision;
}

absl::StatusOr<PasswordManager::AuthOutcome> PasswordManager::ChangePassword(
    absl::string_view person_id, absl::string_view old_password,
    absl::string_view new_password, absl::string_view source,
    const CommitFn& commit) {
  RETURN_IF_ERROR(ValidatePersonId(person_id));
  RETURN_IF_ERROR(ValidateSource(source));
  ASSIGN_OR_RETURN(NormalizedPassword old_normal,
                   NormalizePassword(old_password, "old_password"));
  ASSIGN_OR_RETURN(NormalizedPassword new_normal,
                   NormalizePassword(new_password, "new_password"));
  std::shared_ptr<const PolicyState> ps = state();
  // The rules that do not need the person, before spending a try.
  std::vector<std::string> problems =
      ps->checker->Problems(new_normal, PersonNames{std::string(person_id), ""});
  if (!problems.empty()) return Rejected(problems, "new_password");

  PersonRecord person;
  ASSIGN_OR_RETURN(AuthOutcome outcome,
                   Attempt(*ps, person_id, old_normal, source, &person));
  if (outcome.result != iam::v1::AUTH_RESULT_OK &&
      outcome.result != iam::v1::AUTH_RESULT_MUST_CHANGE) {
    return outcome;
  }
  problems = ps->checker->Problems(new_normal,
                                   PersonNames{person.id, person.display_name});
  if (!problems.empty()) return Rejected(problems, "new_password");
  ASSIGN_OR_RETURN(absl::optional<Credential> cred, Load(person_id));
  RETURN_IF_ERROR(CheckHistory(*ps, cred, new_normal));
  ASSIGN_OR_RETURN(std::string phc, HashPassword(new_normal.text.reveal(), ps->params));
  ASSIGN_OR_RETURN(Revision revision,
                   Replace(*ps, person_id, cred, std::move(phc),
                           /*must_change=*/false, person_id, commit));
  AuthOutcome done;
  done.result = iam::v1::AUTH_RESULT_OK;
  done.detail = "password changed";
  done.revision = revision;
  return done;
}

absl::StatusOr<Revision> PasswordManager::SetInitialPassword(
    absl::string_view person_id, absl::string_view password,
    absl::string_view changed_by, const CommitFn& commit) {
  RETURN_IF_ERROR(ValidatePersonId(person_id));
  ASSIGN_OR_RETURN(NormalizedPassword normal, NormalizePassword(password, "password"));
  ASSIGN_OR_RETURN(PersonRecord person, LookupPerson(person_id));
  if (person.status == iam::v1::PERSON_STATUS_LEFT) {
    return absl::FailedPreconditionError(absl::StrCat(
        "person '", person_id, "' has left; a password cannot be set"));
  }
  std::shared_ptr<const PolicyState> ps = state();
  std::vector<std::string> problems = ps->checker->Problems(
      normal, PersonNames{person.id, person.display_name});
  if (!problems.empty()) return Rejected(problems, "the password");
  ASSIGN_OR_RETURN(absl::optional<Credential> cred, Load(person_id));
  RETURN_IF_ERROR(CheckHistory(*ps, cred, normal));
  ASSIGN_OR_RETURN(std::string phc, HashPassword(normal.text.reveal(), ps->params));
  return Replace(*ps, person_id, cred, std::move(phc), /*must_change=*/true,
                 changed_by, commit);
}

absl::StatusOr<std::pair<bool, Revision>> PasswordManager::Unlock(
    absl::string_view person_id, const CommitFn& commit) {
  RETURN_IF_ERROR(ValidatePersonId(person_id));
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&LockFor(person_id));
  const FailureState phantom = phantoms_.Get(person_id);
  const bool had_phantom = phantoms_.Erase(person_id);
  ASSIGN_OR_RETURN(absl::optional<Credential> cred, Load(person_id));
  if (!cred) {
    if (!had_phantom) {
      return absl::NotFoundError(absl::StrCat(
          "person '", person_id, "' has no password and no failed logins to clear"));
    }
    return std::make_pair(IsLocked(phantom, now), Revision{0});
  }
  const bool was_locked = IsLocked(StateOf(*cred), now);
  SetState(FailureState{}, &*cred);
  WriteBatch batch;
  batch.Put(kPasswordColumn, CredKey(person_id), cred->SerializeAsString());
  ASSIGN_OR_RETURN(Revision revision, CommitThrough(commit, *store_, batch));
  return std::make_pair(was_locked, revision);
}

absl::StatusOr<std::pair<bool, Revision>> PasswordManager::Revoke(
    absl::string_view person_id, const CommitFn& commit) {
  RETURN_IF_ERROR(ValidatePersonId(person_id));
  absl::MutexLock lock(&LockFor(person_id));
  phantoms_.Erase(person_id);
  absl::StatusOr<std::string> raw = store_->Get(kPasswordColumn, CredKey(person_id));
  if (absl::IsNotFound(raw.status())) return std::make_pair(false, Revision{0});
  if (!raw.ok()) return raw.status();
  // Even an unreadable record is deleted: revocation must not fail on it.
  WriteBatch batch;
  batch.Delete(kPasswordColumn, CredKey(person_id));
  ASSIGN_OR_RETURN(Revision revision, CommitThrough(commit, *store_, batch));
  return std::make_pair(true, revision);
}

absl::StatusOr<PasswordManager::CandidateReport> PasswordManager::CheckCandidate(
    absl::string_view person_id, absl::string_view password) {
  PersonNames names;
  if (!person_id.empty()) {
    RETURN_IF_ERROR(ValidatePersonId(person_id));
    ASSIGN_OR_RETURN(PersonRecord person, LookupPerson(person_id));
    names = PersonNames{person.id, person.display_name};
  }
  ASSIGN_OR_RETURN(NormalizedPassword normal, NormalizePassword(password, "password"));
  std::shared_ptr<const PolicyState> ps = state();
  CandidateReport report;
  report.problems = ps->checker->Problems(normal, names);
  report.length = normal.code_points;
  report.strength_bits = PasswordPolicyChecker::StrengthBits(normal, names);
  return report;
}

absl::StatusOr<iam::v1::GetPasswordStatusResponse> PasswordManager::Status(
    absl::string_view person_id) {
  RETURN_IF_ERROR(ValidatePersonId(person_id));
  const absl::Time now = clock_->Now();
  ASSIGN_OR_RETURN(absl::optional<Credential> cred, Load(person_id));
  iam::v1::GetPasswordStatusResponse out;
  const FailureState s = cred ? StateOf(*cred) : phantoms_.Get(person_id);
  out.set_failed_attempts(static_cast<int32_t>(s.failures));
  if (IsLocked(s, now)) out.set_locked_until_unix(absl::ToUnixSeconds(s.locked_until));
  if (cred) {
    out.set_has_password(true);
    out.set_must_change(cred->must_change());
    out.set_changed_at_unix(cred->changed_at_unix());
    out.set_last_login_unix(cred->last_login_unix());
  }
  return out;
}

}  // namespace iam::password
