// audit query / tail / verify / export / key, and person erase: the
// AuditService from the command line. `audit verify --data-dir DIR` works
// without a server, on a data directory or a copy of it.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "admin/commands.h"
#include "admin/connection.h"
#include "admin/exit_codes.h"
#include "admin/render.h"
#include "admin/requests.h"
#include "admin/text.h"
#include "admin/values.h"
#include "proto/iam/v1/audit.grpc.pb.h"
#include "services/audit/offline_store.h"
#include "services/audit/signer.h"
#include "services/audit/verifier.h"

namespace iam::admin {
namespace {

// The server's largest page.
constexpr int64_t kMaxAuditPage = 1000;
// Exit code of `audit verify` when the log fails verification.
constexpr int kExitTampered = kExitDenied;

std::string CsvField(absl::string_view s) {
  if (s.find_first_of(",\"\n\r") == absl::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void PrintCsv(std::ostream& out,
              const google::protobuf::RepeatedPtrField<iam::v1::AuditRecord>& records,
              bool header) {
  if (header) {
    out << "sequence,time,caller,action,target,person_id,outcome,revision,"
           "reason,kind\n";
  }
  for (const iam::v1::AuditRecord& r : records) {
    out << r.sequence() << "," << FormatUnixMicros(r.time_unix_micros()) << ","
        << CsvField(r.caller()) << "," << CsvField(r.action()) << ","
        << CsvField(r.target()) << "," << CsvField(r.person_id()) << ","
        << AuditOutcomeName(r.outcome()) << "," << r.revision() << ","
        << CsvField(r.reason_erased() ? "[erased]" : r.reason()) << ","
        << (r.kind() == iam::v1::AUDIT_RECORD_KIND_ALERT ? "alert" : "") << "\n";
  }
}

std::vector<FlagSpec> QueryFlags() {
  std::vector<FlagSpec> flags = AuditQueryFlags();
  flags.push_back({"alerts", FlagKind::kSwitch, "", "only alert records"});
  flags.push_back({"csv", FlagKind::kSwitch, "", "print CSV instead of a table"});
  return flags;
}

int RunAuditQuery(CommandContext& ctx) {
  absl::StatusOr<AuditQuery> query = BuildAuditQuery(ctx.args());
  if (!query.ok()) return ctx.UsageError(query.status().message());
  iam::v1::QueryAuditRequest& request = query->request;
  request.set_alerts_only(ctx.args().Has("alerts"));
  iam::v1::QueryAuditResponse all;
  bool truncated = false;  // A page held more than asked for.
  while (all.records_size() < query->limit) {
    const int64_t wanted = query->limit - all.records_size();
    request.set_page_size(
        static_cast<int32_t>(std::min(wanted, kMaxAuditPage)));
    iam::v1::QueryAuditResponse page;
    const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
      return ctx.server().audit().Query(c, request, &page);
    });
    if (!status.ok()) return ctx.RpcError(status);
    for (iam::v1::AuditRecord& record : *page.mutable_records()) {
      if (all.records_size() == query->limit) {
        // A page larger than asked for: its token would skip what is cut.
        truncated = true;
        page.clear_next_page_token();
        break;
      }
      *all.add_records() = std::move(record);
    }
    all.set_next_page_token(page.next_page_token());
    if (page.next_page_token().empty()) break;
    if (page.next_page_token() == request.page_token()) {
      return ctx.RpcError(grpc::Status(grpc::StatusCode::INTERNAL,
                                       "server repeated a page token"));
    }
    request.set_page_token(page.next_page_token());
  }
  if (ctx.json()) {
    ctx.PrintJson(all);
  } else if (ctx.args().Has("csv")) {
    PrintCsv(ctx.out(), all.records(), true);
  } else {
    ctx.Print(AuditTable(all.records()));
  }
  if (!ctx.json() && (truncated || !all.next_page_token().empty())) {
    ctx.err() << "stopped at --limit " << query->limit
              << "; there may be more records\n";
  }
  return kExitOk;
}

std::vector<FlagSpec> TailFlags() {
  std::vector<FlagSpec> flags;
  for (FlagSpec& f : AuditQueryFlags()) {
    if (f.name != "since" && f.name != "until" && f.name != "limit") {
      flags.push_back(std::move(f));
    }
  }
  flags.push_back({"from", FlagKind::kValue, "SEQ",
                   "first sequence to print (default: the next record written); "
                   "to resume, pass the last 'next' sequence printed"});
  flags.push_back({"alerts", FlagKind::kSwitch, "", "only alert records"});
  flags.push_back({"count", FlagKind::kValue, "N",
                   "stop after N records (default: follow until interrupted)"});
  flags.push_back({"csv", FlagKind::kSwitch, "", "print CSV lines"});
  return flags;
}

int RunAuditTail(CommandContext& ctx) {
  absl::StatusOr<AuditQuery> query = BuildAuditQuery(ctx.args());
  if (!query.ok()) return ctx.UsageError(query.status().message());
  iam::v1::TailAuditRequest request;
  request.set_person_id(query->request.person_id());
  request.set_caller(query->request.caller());
  request.set_action_prefix(query->request.action_prefix());
  request.set_target(query->request.target());
  request.set_outcome(query->request.outcome());
  request.set_alerts_only(ctx.args().Has("alerts"));
  if (auto from = ctx.args().Value("from")) {
    absl::StatusOr<int64_t> parsed = ParseInt(*from, 1, INT64_MAX);
    if (!parsed.ok()) return ctx.UsageError(absl::StrCat("--from: ", parsed.status().message()));
    request.set_from_sequence(*parsed);
  }
  int64_t count = -1;
  if (auto n = ctx.args().Value("count")) {
    absl::StatusOr<int64_t> parsed = ParseInt(*n, 1, INT64_MAX);
    if (!parsed.ok()) return ctx.UsageError(absl::StrCat("--count: ", parsed.status().message()));
    count = *parsed;
  }
  int64_t printed = 0;
  int64_t next = request.from_sequence();
  bool header = true;
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    // A tail follows the log for as long as it is asked to.
    c->set_deadline(std::chrono::system_clock::time_point::max());
    std::unique_ptr<grpc::ClientReaderInterface<iam::v1::TailAuditResponse>>
        reader = ctx.server().audit().Tail(c, request);
    iam::v1::TailAuditResponse message;
    while (reader->Read(&message)) {
      if (count >= 0 && printed + message.records_size() > count) {
        message.mutable_records()->DeleteSubrange(
            static_cast<int>(count - printed),
            message.records_size() - static_cast<int>(count - printed));
        message.set_next_sequence(
            message.records_size() == 0
                ? next
                : message.records(message.records_size() - 1).sequence() + 1);
      }
      printed += message.records_size();
      next = message.next_sequence();
      if (ctx.json()) {
        for (const auto& r : message.records()) {
          ctx.PrintJson(r);
          ctx.out() << "\n";
        }
      } else if (ctx.args().Has("csv")) {
        PrintCsv(ctx.out(), message.records(), header);
        header = false;
      } else if (message.records_size() > 0) {
        ctx.Print(AuditTable(message.records()));
      }
      ctx.out().flush();
      if (count >= 0 && printed >= count) {
        c->TryCancel();
        break;
      }
    }
    grpc::Status finished = reader->Finish();
    if (count >= 0 && printed >= count) return grpc::Status::OK;
    return finished;
  });
  if (!ctx.json()) ctx.err() << "next " << next << "\n";
  if (!status.ok()) return ctx.RpcError(status);
  return kExitOk;
}

int PrintVerify(CommandContext& ctx, const iam::v1::VerifyAuditResponse& r) {
  if (ctx.json()) {
    ctx.PrintJson(r);
  } else if (r.ok()) {
    ctx.out() << "ok: records " << r.first_sequence() << ".." << r.last_sequence()
              << " (" << r.records_checked() << ") chain intact, "
              << r.checkpoints_checked() << " checkpoint signatures valid";
    if (r.unsigned_tail() > 0) {
      ctx.out() << "; the newest " << r.unsigned_tail()
                << " records are chained but not yet signed";
    }
    ctx.out() << "\n";
  } else {
    ctx.out() << "TAMPERED: " << SanitizeForTerminal(r.problem()) << "\n";
    if (r.first_bad_sequence() > 0) {
      ctx.out() << "first bad record: " << r.first_bad_sequence() << "\n";
    }
  }
  return r.ok() ? kExitOk : kExitTampered;
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path));
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int RunAuditVerifyOffline(CommandContext& ctx, const std::string& dir) {
  std::string key_path = ctx.args().Value("public-key").value_or(
      dir + "/audit-signing-key.pem.pub");
  if (!ctx.args().Has("public-key")) {
    ctx.err() << "iamctl: using the public key inside " << dir
              << "; pass --public-key with a copy kept elsewhere to also "
                 "catch a replaced key\n";
  }
  absl::StatusOr<std::string> pem = ReadWholeFile(key_path);
  if (!pem.ok()) return ctx.LocalError(pem.status());
  absl::StatusOr<audit::AuditPublicKey> key = audit::AuditPublicKey::FromPem(*pem);
  if (!key.ok()) return ctx.LocalError(key.status());
  const std::string scratch = absl::StrCat(
      std::filesystem::temp_directory_path().string(), "/iamctl-verify-", getpid());
  absl::StatusOr<iam::v1::VerifyAuditResponse> result;
  {
    absl::StatusOr<std::unique_ptr<audit::OfflineStore>> store =
        audit::OfflineStore::Open(dir, scratch);
    if (!store.ok()) {
      std::filesystem::remove_all(scratch);
      return ctx.LocalError(store.status());
    }
    result = audit::VerifyAuditLog(**store, *key);
  }
  std::error_code ignored;
  std::filesystem::remove_all(scratch, ignored);
  if (!result.ok()) return ctx.LocalError(result.status());
  return PrintVerify(ctx, *result);
}

int RunAuditVerify(CommandContext& ctx) {
  if (auto dir = ctx.args().Value("data-dir")) return RunAuditVerifyOffline(ctx, *dir);
  if (ctx.args().Has("public-key")) {
    return ctx.UsageError("--public-key goes with --data-dir (offline verify)");
  }
  // Online. The command is registered without needs_server (offline needs
  // none), so it connects here.
  if (ctx.options().caller.empty() && !ctx.options().tls) {
    return ctx.UsageError(
        "who is calling? pass --as ID or set IAM_CALLER (insecure mode), or "
        "use --tls-ca/--tls-cert/--tls-key; or verify offline with --data-dir");
  }
  absl::StatusOr<std::unique_ptr<ServerConnection>> server =
      ServerConnection::Open(ctx.options());
  if (!server.ok()) return ctx.UsageError(server.status().message());
  iam::v1::VerifyAuditResponse response;
  grpc::ClientContext context;
  (*server)->Prepare(&context);
  const grpc::Status status = (*server)->audit().Verify(
      &context, iam::v1::VerifyAuditRequest(), &response);
  if (!status.ok()) return ctx.RpcError(status);
  return PrintVerify(ctx, response);
}

int RunAuditExport(CommandContext& ctx) {
  iam::v1::ExportAuditRequest request;
  if (auto from = ctx.args().Value("from")) {
    absl::StatusOr<int64_t> parsed = ParseInt(*from, 1, INT64_MAX);
    if (!parsed.ok()) return ctx.UsageError(absl::StrCat("--from: ", parsed.status().message()));
    request.set_from_sequence(*parsed);
  }
  if (auto to = ctx.args().Value("to")) {
    absl::StatusOr<int64_t> parsed = ParseInt(*to, 1, INT64_MAX);
    if (!parsed.ok()) return ctx.UsageError(absl::StrCat("--to: ", parsed.status().message()));
    request.set_to_sequence(*parsed);
  }
  if (request.to_sequence() != 0 && request.from_sequence() > request.to_sequence()) {
    return ctx.UsageError("--from must not be after --to");
  }
  std::ofstream file;
  std::ostream* out = &ctx.out();
  if (auto path = ctx.args().Value("out")) {
    file.open(*path, std::ios::binary | std::ios::trunc);
    if (!file) return ctx.LocalError(absl::UnavailableError(absl::StrCat("cannot write ", *path)));
    out = &file;
  }
  request.set_max_records(10000);
  int64_t lines = 0;
  while (true) {
    iam::v1::ExportAuditResponse page;
    const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
      return ctx.server().audit().Export(c, request, &page);
    });
    if (!status.ok()) return ctx.RpcError(status);
    for (const std::string& line : page.lines()) *out << line << "\n";
    lines += page.lines_size();
    if (page.next_sequence() == 0) break;
    request.set_from_sequence(page.next_sequence());
  }
  out->flush();
  if (!*out) return ctx.LocalError(absl::UnavailableError("writing the export failed"));
  if (out != &ctx.out()) ctx.err() << "wrote " << lines << " lines\n";
  return kExitOk;
}

int RunAuditKey(CommandContext& ctx) {
  iam::v1::GetAuditKeyResponse response;
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return ctx.server().audit().GetKey(c, iam::v1::GetAuditKeyRequest(), &response);
  });
  if (!status.ok()) return ctx.RpcError(status);
  if (ctx.json()) {
    ctx.PrintJson(response);
  } else {
    ctx.out() << response.public_key_pem();
    ctx.err() << "fingerprint (sha256) " << response.fingerprint_hex() << "\n";
  }
  return kExitOk;
}

int RunPersonErase(CommandContext& ctx) {
  absl::StatusOr<std::string> reason = RequiredReason(ctx.args());
  if (!reason.ok()) return ctx.UsageError(reason.status().message());
  iam::v1::ErasePersonDataRequest request;
  request.set_person_id(ctx.arg(0));
  request.set_reason(*reason);
  iam::v1::ErasePersonDataResponse response;
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return ctx.server().audit().ErasePersonData(c, request, &response);
  });
  if (!status.ok()) return ctx.RpcError(status);
  if (ctx.json()) {
    ctx.PrintJson(response);
  } else {
    ctx.out() << (response.key_destroyed()
                      ? "erased: the personal text in the audit records of "
                      : "nothing to erase: no personal text was recorded for ")
              << SanitizeForTerminal(request.person_id())
              << " (audit record " << response.sequence() << ")\n";
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> AuditCommands() {
  std::vector<Command> commands;
  commands.push_back(
      {{"audit", "query"},
       "[filters] [--since T] [--until T] [--limit N] [--csv]",
       "audit records in sequence order",
       "Follows pages until --limit records (default 100). Times are RFC3339 "
       "with a\n"
       "zone offset, e.g. 2026-12-31T18:00:00Z; they print in UTC.",
       QueryFlags(),
       0,
       0,
       true,
       RunAuditQuery});
  commands.push_back(
      {{"audit", "tail"},
       "[filters] [--from SEQ] [--alerts] [--count N]",
       "follow new audit records as they are written",
       "Prints matching records as they arrive, until interrupted or --count.\n"
       "On exit it prints 'next SEQ' to stderr: pass it as --from to resume\n"
       "without gaps or duplicates.",
       TailFlags(),
       0,
       0,
       true,
       RunAuditTail});
  commands.push_back(
      {{"audit", "verify"},
       "[--data-dir DIR [--public-key FILE]]",
       "check the audit log's hash chain and signed checkpoints",
       "Online (no flags): the server verifies its own log. Offline: reads the\n"
       "data directory DIR (or a copy of it) read-only, also while iamd runs,\n"
       "and checks it against --public-key (default: the key iamd keeps in\n"
       "DIR). Names the first record changed, removed or reordered.\n"
       "Exit code 0: intact; 1: tampered.",
       {{"data-dir", FlagKind::kValue, "DIR", "verify this data directory offline"},
        {"public-key", FlagKind::kValue, "FILE",
         "PEM public key the checkpoints must be signed with"}},
       0,
       0,
       false,
       RunAuditVerify});
  commands.push_back(
      {{"audit", "export"},
       "[--from SEQ] [--to SEQ] [--out FILE]",
       "audit records as JSON lines, with what is needed to verify them",
       "The first line holds the public key and the hash the range chains "
       "from;\n"
       "each record line holds its canonical bytes (base64) and hash.",
       {{"from", FlagKind::kValue, "SEQ", "first sequence (default: the first)"},
        {"to", FlagKind::kValue, "SEQ", "last sequence (default: the last)"},
        {"out", FlagKind::kValue, "FILE", "write to FILE instead of stdout"}},
       0,
       0,
       true,
       RunAuditExport});
  commands.push_back({{"audit", "key"},
                      "",
                      "the public key that signs audit checkpoints (PEM)",
                      "",
                      {},
                      0,
                      0,
                      true,
                      RunAuditKey});
  commands.push_back(
      {{"person", "erase"},
       "PERSON --reason TICKET",
       "destroy the key of a person's personal text in the audit log",
       "Crypto-shredding, once the person's retention has ended: the reasons\n"
       "and free text recorded about PERSON become unreadable for good, while\n"
       "the audit chain still verifies. The erase is itself audited.",
       {{"reason", FlagKind::kValue, "TEXT", "ticket that authorizes the erase"}},
       1,
       1,
       true,
       RunPersonErase});
  return commands;
}

}  // namespace iam::admin
