#include "tests/loadgen_stats.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace iam::testing {
namespace {

std::string Millis(int64_t ns) { return absl::StrFormat("%.3f", ns / 1e6); }

}  // namespace

void PhaseTally::Merge(PhaseTally&& other) {
  if (latencies_ns.empty()) {
    latencies_ns = std::move(other.latencies_ns);
  } else {
    latencies_ns.insert(latencies_ns.end(), other.latencies_ns.begin(),
                        other.latencies_ns.end());
  }
  ok_calls += other.ok_calls;
  for (const auto& [code, n] : other.errors_by_code) errors_by_code[code] += n;
  decisions += other.decisions;
  allowed += other.allowed;
  missed_sends += other.missed_sends;
}

int64_t Percentile(const std::vector<int64_t>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  // Nearest rank: the smallest value with at least `fraction` of the values
  // at or below it.
  auto rank = static_cast<int64_t>(std::ceil(fraction * sorted.size()));
  rank = std::clamp<int64_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

LatencySummary Summarize(std::vector<int64_t>& latencies_ns) {
  std::sort(latencies_ns.begin(), latencies_ns.end());
  LatencySummary s;
  s.count = latencies_ns.size();
  if (latencies_ns.empty()) return s;
  s.p50 = Percentile(latencies_ns, 0.50);
  s.p90 = Percentile(latencies_ns, 0.90);
  s.p99 = Percentile(latencies_ns, 0.99);
  s.p999 = Percentile(latencies_ns, 0.999);
  s.max = latencies_ns.back();
  double sum = 0;
  for (int64_t v : latencies_ns) sum += v;
  s.mean = sum / latencies_ns.size();
  return s;
}

PhaseResult MakePhaseResult(PhaseTally& tally) {
  PhaseResult r;
  r.ok_calls = tally.ok_calls;
  r.errors_by_code = tally.errors_by_code;
  for (const auto& [code, n] : tally.errors_by_code) r.error_calls += n;
  r.decisions = tally.decisions;
  r.allowed = tally.allowed;
  r.missed_sends = tally.missed_sends;
  r.latency = Summarize(tally.latencies_ns);
  return r;
}

std::string StatusCodeName(int code) {
  static const char* const kNames[] = {
      "OK",        "CANCELLED",          "UNKNOWN",           "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",  "ALREADY_EXISTS",    "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",       "UNAVAILABLE",       "DATA_LOSS",
      "UNAUTHENTICATED"};
  if (code >= 0 && code < static_cast<int>(std::size(kNames))) {
    return kNames[code];
  }
  return absl::StrCat("CODE_", code);
}

namespace {

std::string ErrorsText(const PhaseResult& r) {
  if (r.errors_by_code.empty()) return "none";
  std::vector<std::string> parts;
  for (const auto& [code, n] : r.errors_by_code) {
    parts.push_back(absl::StrCat(StatusCodeName(code), "=", n));
  }
  return absl::StrJoin(parts, " ");
}

std::string LoadText(const PhaseResult& r) {
  if (r.target_rate <= 0) {
    return absl::StrCat("closed loop, ", r.concurrency, " outstanding");
  }
  return absl::StrFormat("open loop at %.0f calls/s, up to %d outstanding",
                         r.target_rate, r.concurrency);
}

}  // namespace

std::string FormatPhaseText(const PhaseResult& r) {
  std::string out = absl::StrFormat(
      "== %s: %s%s, %s, %.1f s measured\n", r.name, r.rpc,
      r.batch_size > 1 ? absl::StrCat(" x", r.batch_size) : "", LoadText(r),
      r.seconds);
  absl::StrAppendFormat(&out, "   calls/s      %12.0f   (ok %d, failed %d)\n",
                        r.calls_per_second(), r.ok_calls, r.error_calls);
  if (r.decisions > 0) {
    absl::StrAppendFormat(&out, "   decisions/s  %12.0f   allowed %.1f%%\n",
                          r.decisions_per_second(), 100 * r.allowed_fraction());
  }
  absl::StrAppendFormat(
      &out, "   latency ms   p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  mean %s\n",
      Millis(r.latency.p50), Millis(r.latency.p90), Millis(r.latency.p99),
      Millis(r.latency.p999), Millis(r.latency.max),
      Millis(static_cast<int64_t>(r.latency.mean)));
  absl::StrAppend(&out, "   errors       ", ErrorsText(r), "\n");
  if (r.target_rate > 0) {
    absl::StrAppend(&out, "   missed sends ", r.missed_sends,
                    " (due but never sent: the server stopped answering)\n");
  }
  absl::StrAppendFormat(&out, "   cpu cores    client %.2f  server %s  other %.2f\n",
                        r.client_cores,
                        r.server_cores < 0
                            ? std::string("n/a")
                            : absl::StrFormat("%.2f", r.server_cores),
                        r.other_cores);
  return out;
}

std::string FormatPhaseJson(const PhaseResult& r) {
  std::vector<std::string> errors;
  for (const auto& [code, n] : r.errors_by_code) {
    errors.push_back(absl::StrCat("\"", StatusCodeName(code), "\":", n));
  }
  return absl::StrCat(
      "{\"name\":\"", r.name, "\",\"rpc\":\"", r.rpc,
      "\",\"batch_size\":", r.batch_size, ",\"concurrency\":", r.concurrency,
      ",\"target_rate\":", absl::StrFormat("%.1f", r.target_rate),
      ",\"seconds\":", absl::StrFormat("%.3f", r.seconds),
      ",\"calls_per_second\":", absl::StrFormat("%.1f", r.calls_per_second()),
      ",\"decisions_per_second\":",
      absl::StrFormat("%.1f", r.decisions_per_second()),
      ",\"ok_calls\":", r.ok_calls, ",\"error_calls\":", r.error_calls,
      ",\"errors\":{", absl::StrJoin(errors, ","), "}",
      ",\"allowed_fraction\":", absl::StrFormat("%.4f", r.allowed_fraction()),
      ",\"missed_sends\":", r.missed_sends, ",\"latency_ms\":{",
      "\"p50\":", Millis(r.latency.p50), ",\"p90\":", Millis(r.latency.p90),
      ",\"p99\":", Millis(r.latency.p99), ",\"p999\":", Millis(r.latency.p999),
      ",\"max\":", Millis(r.latency.max),
      ",\"mean\":", Millis(static_cast<int64_t>(r.latency.mean)), "}",
      ",\"client_cores\":", absl::StrFormat("%.2f", r.client_cores),
      ",\"server_cores\":", absl::StrFormat("%.2f", r.server_cores),
      ",\"other_cores\":", absl::StrFormat("%.2f", r.other_cores),
      ",\"settle_seconds\":", absl::StrFormat("%.1f", r.settle_seconds), "}");
}

std::string FormatMarkdownTable(const std::vector<PhaseResult>& results) {
  std::string out =
      "| phase | load | calls/s | decisions/s | p50 ms | p90 ms | p99 ms | "
      "p99.9 ms | max ms | allowed | errors | cores client/server/other | "
      "server busy after |\n"
      "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|\n";
  for (const PhaseResult& r : results) {
    std::string load =
        r.target_rate > 0
            ? absl::StrFormat("open %.0f/s, ≤%d out", r.target_rate,
                              r.concurrency)
            : absl::StrFormat("closed, %d out", r.concurrency);
    absl::StrAppendFormat(
        &out, "| %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
        r.name, load, r.calls_per_second(),
        r.decisions > 0 ? absl::StrFormat("%.0f", r.decisions_per_second())
                        : std::string("–"),
        Millis(r.latency.p50), Millis(r.latency.p90), Millis(r.latency.p99),
        Millis(r.latency.p999), Millis(r.latency.max),
        r.decisions > 0 ? absl::StrFormat("%.1f%%", 100 * r.allowed_fraction())
                        : std::string("–"),
        ErrorsText(r),
        absl::StrFormat("%.2f / %s / %.2f", r.client_cores,
                        r.server_cores < 0
                            ? std::string("n/a")
                            : absl::StrFormat("%.2f", r.server_cores),
                        r.other_cores),
        r.settle_seconds < 0 ? std::string("> limit")
                             : absl::StrFormat("%.1f s", r.settle_seconds));
  }
  return out;
}

}  // namespace iam::testing
