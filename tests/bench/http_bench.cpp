// The HTTP benchmark: one edge (and the services behind it) on loopback, driven by wrk, one
// route at a time with the same connections and duration. It reports each route's requests
// per second and p99 next to `/health/live` (the server's own ceiling, measured in the same
// run), so the figures compare on a noisy machine. Run by `scripts/bench http`.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <soci/soci.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

#include "bench_util.hpp"
#include "shop_api.hpp"

using namespace bazaar;
using namespace bazaar::e2e;

namespace {

struct WrkResult {
  double requests_per_s = 0;
  double p99_ms = 0;
  long long requests = 0;
  long long not_2xx = 0;
};

double to_ms(double value, const std::string& unit) {
  if (unit == "us") return value / 1000;
  if (unit == "s") return value * 1000;
  return value;
}

// wrk's own summary: "Requests/sec:", the 99% line of --latency, the request count and
// "Non-2xx or 3xx responses:".
WrkResult run_wrk(const std::string& url, int seconds, int connections,
                  const std::string& script = {}) {
  std::string command =
      "wrk --latency -t2 -c" + std::to_string(connections) + " -d" + std::to_string(seconds) + "s";
  if (!script.empty()) command += " -s " + script;
  command += " " + url + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE_MESSAGE(pipe != nullptr, "cannot run wrk");
  std::string out;
  char buffer[4096];
  while (const auto n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  REQUIRE_MESSAGE(pclose(pipe) == 0, out);
  WrkResult r;
  std::smatch m;
  if (std::regex_search(out, m, std::regex(R"(Requests/sec:\s+([0-9.]+))"))) {
    r.requests_per_s = std::stod(m[1]);
  }
  if (std::regex_search(out, m, std::regex(R"(\n\s+99%\s+([0-9.]+)(us|ms|s)\b)"))) {
    r.p99_ms = to_ms(std::stod(m[1]), m[2]);
  }
  if (std::regex_search(out, m, std::regex(R"(([0-9]+) requests in)"))) {
    r.requests = std::stoll(m[1]);
  }
  if (std::regex_search(out, m, std::regex(R"(Non-2xx or 3xx responses:\s+([0-9]+))"))) {
    r.not_2xx = std::stoll(m[1]);
  }
  REQUIRE_MESSAGE(r.requests_per_s > 0, out);
  return r;
}

}  // namespace

TEST_CASE("http benchmark") {
  const int seconds = bench::env_int("BAZAAR_BENCH_SECONDS", 10);
  const int connections = bench::env_int("BAZAAR_BENCH_CONNECTIONS", 32);
  // Admission control off: POST /orders measures what edge can take, not the pipeline's pace.
  // Edge runs with its own number of request threads, which bounds the placements in flight.
  Api api(false, {}, {{"edge", {{"BAZAAR_EDGE_ADMISSION_MAX_WAIT_MS", "0"}}}});
  const auto [seller_id, seller] = api.user("seller");
  const auto [buyer_id, buyer] = api.user("buyer");
  const std::string product = api.product(seller, 3.0, 10'000'000, "Blue lamp");
  const std::string base = "http://127.0.0.1:" + std::to_string(api.port);

  const std::string script = tests::required_env("BAZAAR_RUN_DIR") + "/post_order.lua";
  {
    std::ofstream lua(script);
    lua << "wrk.method = \"POST\"\n"
        << "wrk.headers[\"Content-Type\"] = \"application/json\"\n"
        << "wrk.headers[\"Authorization\"] = \"Bearer " << buyer << "\"\n"
        << "wrk.body = '{\"lines\":[{\"product_id\":\"" << product
        << "\",\"quantity\":1}],\"payment_token\":\"tok_ok\"}'\n";
  }

  struct Route {
    std::string name;
    std::string url;
    std::string script;
    bool sagas_stopped = false;  // the order service stopped first
  };
  // Last, edge alone: once the sagas started before have settled, the order service stops, the
  // orders edge accepts wait in order.commands, and no saga runs beside edge for the CPU.
  const std::vector<Route> routes{
      {"GET /health/live", base + "/health/live", {}},
      {"GET /products/{id}", base + "/products/" + product, {}},
      {"GET /products?q=lamp", base + "/products?q=lamp", {}},
      {"POST /orders", base + "/orders", script},
      {"POST /orders, no saga", base + "/orders", script, true},
  };
  // CPU per request from /proc while each route ran: edge, PostgreSQL with its backends, and
  // the broker, and the services behind edge (busy with the sagas a POST starts).
  const std::string run_dir = tests::required_env("BAZAAR_RUN_DIR");
  const int edge_pid = api.system.pid("edge");
  const int pg_pid = bench::pid_in(run_dir + "/pg/data/postmaster.pid");
  std::vector<int> others{bench::pid_in(run_dir + "/kafka/pid")};
  for (const auto& s : kServices) others.push_back(api.system.pid(s));
  const auto cpu_now = [&] {
    double services = 0;
    for (std::size_t i = 1; i < others.size(); ++i) services += bench::cpu_ms(others[i]);
    return std::array<double, 4>{bench::cpu_ms(edge_pid), bench::cpu_ms(pg_pid, true),
                                 bench::cpu_ms(others[0]), services};
  };
  // Placements written by edge's transactions so far, and those transactions (its metrics).
  const auto batches_now = [&] {
    const auto metrics = tests::http_get(api.system.admin_port("edge"), "/metrics").second;
    const auto value = [&metrics](const std::string& line) {
      const auto at = metrics.find(line);
      return at == std::string::npos ? 0.0 : std::stod(metrics.substr(at + line.size()));
    };
    return std::array<double, 2>{
        value("bazaar_edge_order_placement_batch_size_sum{service=\"edge\"} "),
        value("bazaar_edge_order_placement_batch_size_count{service=\"edge\"} ")};
  };
  // Produce requests the broker answered per request of a route that writes (scripts/kafka/
  // BrokerCounters.java, when BAZAAR_BENCH_BROKER_COUNTERS names it).
  const char* counters_tool = std::getenv("BAZAAR_BENCH_BROKER_COUNTERS");
  const auto broker_counters = [&] {
    return bench::broker_counters(counters_tool != nullptr ? counters_tool : "", others[0]);
  };
  std::printf("\n%-22s %10s %9s %9s %12s %10s %10s %10s %10s %10s %10s\n", "route", "req_per_s",
              "p99_ms", "of_live", "not_2xx", "edge_cpu", "pg_cpu", "kafka_cpu", "svc_cpu",
              "per_batch", "produces");
  double live = 0;
  std::vector<WrkResult> results;
  for (const auto& route : routes) {
    if (route.sagas_stopped) {
      // The sagas the runs before started finish first: their work would count as edge's.
      const bool drained = tests::wait_until(std::chrono::minutes{3}, [&] {
        long long open = 0;
        api.system.db("edge") << "SELECT count(*) FROM orders_view "
                                 "WHERE status NOT IN ('CONFIRMED', 'REJECTED', 'CANCELLED')",
            soci::into(open);
        return open == 0;
      });
      CHECK_MESSAGE(drained, "the sagas of the POST /orders run never all settled");
      api.system.stop("order");
    }
    // The broker's counters around the CPU readings, so that attaching to it is not counted.
    const auto broker_before =
        route.script.empty() ? decltype(bench::broker_counters("", 0)){} : broker_counters();
    const auto batched_before = batches_now();
    const auto before = cpu_now();
    const WrkResult r = run_wrk(route.url, seconds, connections, route.script);
    const auto after = cpu_now();
    const auto batched_after = batches_now();
    const auto broker_after =
        route.script.empty() ? decltype(bench::broker_counters("", 0)){} : broker_counters();
    const double transactions = batched_after[1] - batched_before[1];
    if (live == 0) live = r.requests_per_s;
    results.push_back(r);
    const double n = static_cast<double>(std::max(1LL, r.requests));
    const auto produces = [&] {
      const auto now = broker_after.find("request Produce");
      const auto was = broker_before.find("request Produce");
      if (now == broker_after.end() || was == broker_before.end()) return 0.0;
      return (now->second - was->second) / n;
    };
    std::printf("%-22s %10.0f %9.2f %8.0f%% %12lld %10.3f %10.3f %10.3f %10.3f %10.2f %10.2f\n",
                route.name.c_str(), r.requests_per_s, r.p99_ms, 100 * r.requests_per_s / live,
                r.not_2xx, (after[0] - before[0]) / n, (after[1] - before[1]) / n,
                (after[2] - before[2]) / n, (after[3] - before[3]) / n,
                transactions > 0 ? (batched_after[0] - batched_before[0]) / transactions : 0.0,
                produces());
  }
  const auto accepted_per_s = [](const WrkResult& orders) {
    return orders.requests > 0
               ? orders.requests_per_s * static_cast<double>(orders.requests - orders.not_2xx) /
                     static_cast<double>(orders.requests)
               : 0.0;
  };
  std::printf(
      "live_rps=%.0f product_ratio=%.2f search_ratio=%.2f orders_accepted_per_s=%.0f "
      "orders_accepted_no_saga_per_s=%.0f\n",
      live, results[1].requests_per_s / live, results[2].requests_per_s / live,
      accepted_per_s(results[3]), accepted_per_s(results[4]));
  // Every read answered 2xx: a benchmark of error pages would measure nothing.
  for (std::size_t i = 0; i < 3; ++i) CHECK(results[i].not_2xx == 0);
}

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  return context.run();
}
