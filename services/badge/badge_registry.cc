#include "services/badge/badge_registry.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/badge/columns.h"
#include "services/common/status_macros.h"

namespace iam::badge {
namespace {

constexpr absl::string_view kBadgePrefix = "badge/";
constexpr absl::string_view kNextIdKey = "meta/next_badge_id";
constexpr absl::string_view kColumn = kBadgeColumn;
constexpr size_t kMinCardDigits = 8;
constexpr size_t kMaxCardDigits = 20;
constexpr size_t kMaxPersonIdLength = 200;

bool IsFinal(iam::v1::BadgeState s) {
  return s == iam::v1::BADGE_STATE_LOST || s == iam::v1::BADGE_STATE_REVOKED;
}

std::string StateName(iam::v1::BadgeState s) {
  std::string name = iam::v1::BadgeState_Name(s);
  return absl::AsciiStrToLower(absl::string_view(name).substr(
      std::min(name.size(), sizeof("BADGE_STATE_") - 1)));
}

absl::Status CheckReason(absl::string_view reason) {
  if (reason.empty() || reason.size() > kMaxReasonLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "reason (a ticket or why) is required, at most ", kMaxReasonLength,
        " characters"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> NormalizeCardNumber(absl::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == ' ') continue;
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
      out.clear();
      break;
    }
    out.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  if (out.size() < kMinCardDigits || out.size() > kMaxCardDigits ||
      out.size() % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "malformed card number: expected ", kMinCardDigits, "-", kMaxCardDigits,
        " hex digits (an even count, the card UID as the reader reports it, "
        "e.g. 04A1B2C3D4E5F6)"));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<BadgeRegistry>> BadgeRegistry::Open(
    Store* store, const Clock* clock) {
  std::unique_ptr<BadgeRegistry> r(new BadgeRegistry(store, clock));
  absl::Status parsed = absl::OkStatus();
  absl::MutexLock write(&r->write_mu_);
  absl::MutexLock lock(&r->mu_);
  RETURN_IF_ERROR(store->Scan(
      kColumn, kBadgePrefix, [&](absl::string_view key, absl::string_view value) {
        iam::v1::Badge b;
        if (!b.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
            key.substr(kBadgePrefix.size()) != b.id()) {
          parsed = absl::DataLossError(absl::StrCat("badge record ", key,
                                                    " does not parse"));
          return false;
        }
        r->id_by_card_[b.card_number()] = b.id();
        r->ids_by_person_[b.person_id()].push_back(b.id());
        r->by_id_[b.id()] = std::move(b);
        return true;
      }));
  RETURN_IF_ERROR(parsed);
  absl::StatusOr<std::string> next = store->Get(kColumn, kNextIdKey);
  if (next.ok()) {
    if (!absl::SimpleAtoi(*next, &r->next_id_) || r->next_id_ < 1) {
      return absl::DataLossError("the badge id counter does not parse");
    }
  } else if (!absl::IsNotFound(next.status())) {
    return next.status();
  }
  return r;
}

absl::StatusOr<Revision> BadgeRegistry::CommitLocked(
    std::vector<iam::v1::Badge>* changed, int64_t next_id,
    const CommitFn& commit) {
  WriteBatch batch;
  for (const iam::v1::Badge& b : *changed) {
    batch.Put(kColumn, absl::StrCat(kBadgePrefix, b.id()), b.SerializeAsString());
  }
  if (next_id > 0) batch.Put(kColumn, kNextIdKey, absl::StrCat(next_id));
  // The stored copies carry no revision: it is only known after the commit,
  // and the store's own order says which write came last.
  ASSIGN_OR_RETURN(Revision revision, CommitThrough(commit, *store_, batch));
  absl::MutexLock lock(&mu_);
  for (iam::v1::Badge& b : *changed) {
    b.set_revision(revision);
    if (by_id_.count(b.id()) == 0) {
      id_by_card_[b.card_number()] = b.id();
      ids_by_person_[b.person_id()].push_back(b.id());
    }
    by_id_[b.id()] = b;
  }
  return revision;
}

bool BadgeRegistry::HasActiveLocked(absl::string_view person_id,
                                    absl::string_view except) const {
  auto it = ids_by_person_.find(person_id);
  if (it == ids_by_person_.end()) return false;
  const absl::Time now = clock_->Now();
  for (const std::string& id : it->second) {
    if (id == except) continue;
    const iam::v1::Badge& b = by_id_.find(id)->second;
    if (b.state() == iam::v1::BADGE_STATE_ACTIVE &&
        absl::FromUnixSeconds(b.expires_at_unix()) > now) {
      return true;
    }
  }
  return false;
}

absl::StatusOr<iam::v1::Badge> BadgeRegistry::Issue(const IssueRequest& request,
                                                    const NamedCommitFn& commit) {
  if (request.person_id.empty() || request.person_id.size() > kMaxPersonIdLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "person_id is required, at most ", kMaxPersonIdLength, " characters"));
  }
  ASSIGN_OR_RETURN(std::string card, NormalizeCardNumber(request.card_number));
  RETURN_IF_ERROR(CheckReason(request.reason));
  if (request.kind != iam::v1::BADGE_KIND_EMPLOYEE &&
      request.kind != iam::v1::BADGE_KIND_VISITOR) {
    return absl::InvalidArgumentError("kind must be EMPLOYEE or VISITOR");
  }
  const absl::Time now = clock_->Now();
  if (request.expires_at <= now || request.expires_at > now + kMaxBadgeLifetime) {
    return absl::InvalidArgumentError(
        "expires_at must be in the future and at most 5 years from now");
  }
  absl::MutexLock write(&write_mu_);
  {
    absl::ReaderMutexLock lock(&mu_);
    auto used = id_by_card_.find(card);
    if (used != id_by_card_.end()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "card number ", card, " was already issued (badge ", used->second,
          "); a card number is never reissued, use a new card"));
    }
    if (HasActiveLocked(request.person_id, "")) {
      return absl::FailedPreconditionError(absl::StrCat(
          "person ", request.person_id,
          " already has an active badge; report it lost or revoke it first"));
    }
  }
  std::vector<iam::v1::Badge> changed(1);
  iam::v1::Badge& b = changed[0];
  b.set_id(absl::StrFormat("b-%08d", next_id_));
  b.set_card_number(card);
  b.set_person_id(request.person_id);
  b.set_kind(request.kind);
  b.set_state(iam::v1::BADGE_STATE_ACTIVE);
  b.set_issued_at_unix(absl::ToUnixSeconds(now));
  b.set_expires_at_unix(absl::ToUnixSeconds(request.expires_at));
  b.set_issued_by(request.issued_by);
  b.set_state_reason(request.reason);
  RETURN_IF_ERROR(
      CommitLocked(&changed, next_id_ + 1, NameCommit(commit, b.id())).status());
  ++next_id_;
  return changed[0];
}

absl::StatusOr<iam::v1::Badge> BadgeRegistry::ChangeState(
    absl::string_view badge_id, iam::v1::BadgeState to, absl::string_view reason,
    const CommitFn& commit) {
  RETURN_IF_ERROR(CheckReason(reason));
  absl::MutexLock write(&write_mu_);
  std::vector<iam::v1::Badge> changed;
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = by_id_.find(badge_id);
    if (it == by_id_.end()) {
      return absl::NotFoundError(absl::StrCat("no badge '", badge_id, "'"));
    }
    const iam::v1::Badge& b = it->second;
    if (IsFinal(b.state())) {
      return absl::FailedPreconditionError(absl::StrCat(
          "badge ", badge_id, " is ", StateName(b.state()),
          ", which is final; issue a new badge with a new card"));
    }
    if (to == iam::v1::BADGE_STATE_ACTIVE) {
      if (b.state() != iam::v1::BADGE_STATE_SUSPENDED) {
        return absl::FailedPreconditionError(absl::StrCat(
            "badge ", badge_id, " is ", StateName(b.state()),
            "; only a suspended badge can be resumed"));
      }
      if (absl::FromUnixSeconds(b.expires_at_unix()) <= clock_->Now()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "badge ", badge_id, " has expired; issue a new badge"));
      }
      if (HasActiveLocked(b.person_id(), b.id())) {
        return absl::FailedPreconditionError(absl::StrCat(
            "person ", b.person_id(),
            " has another active badge; revoke it before resuming this one"));
      }
    }
    changed.push_back(b);
  }
  changed[0].set_state(to);
  changed[0].set_state_reason(std::string(reason));
  RETURN_IF_ERROR(CommitLocked(&changed, 0, commit).status());
  return changed[0];
}

absl::StatusOr<iam::v1::Badge> BadgeRegistry::ReportLost(absl::string_view badge_id,
    absl::string_view reason, const CommitFn& commit) {
  return ChangeState(badge_id, iam::v1::BADGE_STATE_LOST, reason, commit);
}

absl::StatusOr<iam::v1::Badge> BadgeRegistry::Revoke(absl::string_view badge_id,
    absl::string_view reason, const CommitFn& commit) {
  return ChangeState(badge_id, iam::v1::BADGE_STATE_REVOKED, reason, commit);
}

absl::StatusOr<iam::v1::Badge> BadgeRegistry::Resume(absl::string_view badge_id,
    absl::string_view reason, const CommitFn& commit) {
  return ChangeState(badge_id, iam::v1::BADGE_STATE_ACTIVE, reason, commit);
}

absl::StatusOr<std::pair<std::vector<iam::v1::Badge>, Revision>>
BadgeRegistry::ChangeAllOf(absl::string_view person_id, iam::v1::BadgeState to,
                           absl::string_view reason, const CommitFn& commit) {
  if (person_id.empty()) return absl::InvalidArgumentError("person_id is required");
  RETURN_IF_ERROR(CheckReason(reason));
  absl::MutexLock write(&write_mu_);
  std::vector<iam::v1::Badge> changed;
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = ids_by_person_.find(person_id);
    if (it != ids_by_person_.end()) {
      for (const std::string& id : it->second) {
        const iam::v1::Badge& b = by_id_.find(id)->second;
        bool change = to == iam::v1::BADGE_STATE_SUSPENDED
                          ? b.state() == iam::v1::BADGE_STATE_ACTIVE
                          : !IsFinal(b.state());
        if (change) changed.push_back(b);
      }
    }
  }
  if (changed.empty()) return std::make_pair(std::move(changed), Revision{0});
  for (iam::v1::Badge& b : changed) {
    b.set_state(to);
    b.set_state_reason(std::string(reason));
  }
  ASSIGN_OR_RETURN(Revision revision, CommitLocked(&changed, 0, commit));
  return std::make_pair(std::move(changed), revision);
}

absl::StatusOr<std::pair<std::vector<iam::v1::Badge>, Revision>>
BadgeRegistry::SuspendAllOf(absl::string_view person_id, absl::string_view reason,
                            const CommitFn& commit) {
  return ChangeAllOf(person_id, iam::v1::BADGE_STATE_SUSPENDED, reason, commit);
}

absl::StatusOr<std::pair<std::vector<iam::v1::Badge>, Revision>>
BadgeRegistry::RevokeAllOf(absl::string_view person_id, absl::string_view reason,
                           const CommitFn& commit) {
  return ChangeAllOf(person_id, iam::v1::BADGE_STATE_REVOKED, reason, commit);
}

absl::StatusOr<iam::v1::Badge> BadgeRegistry::Get(absl::string_view badge_id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = by_id_.find(badge_id);
  if (it == by_id_.end()) {
    return absl::NotFoundError(absl::StrCat("no badge '", badge_id, "'"));
  }
  return it->second;
}

absl::optional<iam::v1::Badge> BadgeRegistry::FindByCard(
    absl::string_view card_number) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = id_by_card_.find(card_number);
  if (it == id_by_card_.end()) return absl::nullopt;
  return by_id_.find(it->second)->second;
}

std::vector<iam::v1::Badge> BadgeRegistry::List(absl::string_view person_id,
                                                iam::v1::BadgeState state,
                                                absl::string_view after_id,
                                                int limit) const {
  std::vector<iam::v1::Badge> out;
  absl::ReaderMutexLock lock(&mu_);
  for (auto it = by_id_.upper_bound(after_id);
       it != by_id_.end() && static_cast<int>(out.size()) < limit; ++it) {
    const iam::v1::Badge& b = it->second;
    if (!person_id.empty() && b.person_id() != person_id) continue;
    if (state != iam::v1::BADGE_STATE_UNSPECIFIED && b.state() != state) continue;
    out.push_back(b);
  }
  return out;
}

std::vector<iam::v1::Badge> BadgeRegistry::ActiveBadges() const {
  std::vector<iam::v1::Badge> out;
  const int64_t now = absl::ToUnixSeconds(clock_->Now());
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [id, b] : by_id_) {
    if (b.state() == iam::v1::BADGE_STATE_ACTIVE && b.expires_at_unix() > now) {
      out.push_back(b);
    }
  }
  return out;
}

}  // namespace iam::badge
