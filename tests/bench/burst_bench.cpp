// The burst benchmark: N orders over HTTP within S seconds (an open-loop schedule, every
// payment token a real shop sees), clients that honour 503 + Retry-After by trying again with
// the same Idempotency-Key, every accepted order waited for. It reports what a shop owner
// cares about: good cards cancelled for timeout (must be 0) and units left unsold while
// orders for them were refused for lack of stock (must be 0). Run by `scripts/bench burst`.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <soci/soci.h>

#include <atomic>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "bench_util.hpp"
#include "shop_api.hpp"

using namespace bazaar;
using namespace bazaar::e2e;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

struct Placed {
  std::string id;
  std::string token;
};

}  // namespace

TEST_CASE("burst benchmark") {
  const int n = bench::env_int("BAZAAR_BENCH_ORDERS", 2000);
  const int seconds = bench::env_int("BAZAAR_BENCH_SECONDS", 5);
  const int stock = bench::env_int("BAZAAR_BENCH_STOCK", n * 3 / 4);
  const bool admission = bench::env_int("BAZAAR_BENCH_ADMISSION", 1) != 0;
  const int clients = 64;
  Api api(false, {},
          {{"edge", {{"BAZAAR_EDGE_ADMISSION_MAX_WAIT_MS", admission ? "5000" : "0"}}},
           // The burst measures the pipeline: a declined card ends its order at once.
           {"order", {{"BAZAAR_ORDER_PAYMENT_ATTEMPTS", "1"}}}});
  const auto [seller_id, seller] = api.user("seller");
  std::vector<std::string> buyers;
  for (int i = 0; i < 8; ++i) buyers.push_back(api.user("buyer").second);
  const std::string product = api.product(seller, 3.0, stock);

  std::atomic<int> next{0};
  std::atomic<long long> refusals{0};
  std::atomic<int> gave_up{0};
  std::mutex mutex;
  std::map<int, int> other_statuses;  // what ended a client's tries, by status (0: no answer)
  std::vector<Placed> placed;
  const auto start = std::chrono::steady_clock::now();
  const auto give_up_at = start + std::chrono::seconds{seconds} + 120s;
  std::vector<std::thread> workers;
  for (int w = 0; w < clients; ++w) {
    workers.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        // Order i leaves at i * S / N seconds: the pacing of the load, not a synchronisation.
        std::this_thread::sleep_until(
            start + std::chrono::microseconds{static_cast<long long>(i) * seconds * 1'000'000 / n});
        // One card in twenty is declined; the rest are good.
        const std::string token = i % 20 == 7 ? "tok_decline" : "tok_ok";
        const json::object body{
            {"lines", json::array{json::object{{"product_id", product}, {"quantity", 1}}}},
            {"payment_token", token}};
        const std::string key = "burst-" + std::to_string(i);
        const std::string& buyer = buyers[static_cast<std::size_t>(i) % buyers.size()];
        while (true) {
          const auto r = api.http.post("/orders", body, buyer, {{"Idempotency-Key", key}});
          if (r.status == 202 || r.status == 200) {
            const std::lock_guard lock(mutex);
            placed.push_back({std::string(r.json().at("id").as_string()), token});
            break;
          }
          if (r.status != 503 || std::chrono::steady_clock::now() > give_up_at) {
            ++gave_up;
            const std::lock_guard lock(mutex);
            ++other_statuses[r.status];
            if (other_statuses[r.status] == 1) {
              std::printf("first answer %d: %s\n", r.status, r.body.substr(0, 300).c_str());
            }
            break;
          }
          ++refusals;
          const int after = std::max(1, std::atoi(r.header("retry-after").c_str()));
          std::this_thread::sleep_for(std::chrono::seconds{after});
        }
      }
    });
  }
  for (auto& t : workers) t.join();
  const double accept_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // Every accepted order reaches its outcome.
  auto open_orders = [&] {
    long long open = 0;
    api.system.db("order") << "SELECT count(*) FROM orders WHERE status NOT IN "
                              "('CONFIRMED', 'REJECTED', 'CANCELLED')",
        soci::into(open);
    return open;
  };
  const bool settled = tests::wait_until(300s, [&] { return open_orders() == 0; });

  int confirmed = 0;
  int good_card_timeouts = 0;
  int out_of_stock = 0;
  std::vector<double> latencies;
  for (const auto& p : placed) {
    std::string status, reason;
    double ms = 0;
    soci::indicator reason_ind = soci::i_ok;
    api.system.db("edge") << "SELECT status, reason, CAST(extract(epoch FROM COALESCE(settled_at, "
                             "updated_at) - created_at) * 1000 AS double precision) "
                             "FROM orders_view WHERE order_id = CAST(:id AS uuid)",
        soci::use(p.id), soci::into(status), soci::into(reason, reason_ind), soci::into(ms);
    if (reason_ind == soci::i_null) reason.clear();
    latencies.push_back(ms);
    confirmed += status == "CONFIRMED";
    good_card_timeouts +=
        p.token == "tok_ok" && status == "CANCELLED" && reason.find("timeout") != std::string::npos;
    out_of_stock += status == "REJECTED" && reason.find("out_of_stock") != std::string::npos;
  }
  long long available = 0;
  api.system.db("inventory") << "SELECT available FROM stock WHERE product_id = CAST(:p AS uuid)",
      soci::use(product), soci::into(available);
  const bool unsold_while_refused = out_of_stock > 0 && available > 0;
  Shop shop{api.system, api.bus};
  std::vector<std::string> ids;
  for (const auto& p : placed) ids.push_back(p.id);
  const int broken = shop.check_invariants(ids, {product});

  std::printf("\nburst orders=%d in_s=%d admission=%s stock=%d\n", n, seconds,
              admission ? "on" : "off", stock);
  std::printf("accepted=%zu refused_503=%lld gave_up=%d accept_window_s=%.1f settled=%s\n",
              placed.size(), refusals.load(), gave_up.load(), accept_s, settled ? "yes" : "no");
  for (const auto& [status, count] : other_statuses) {
    std::printf("gave up after status %d: %d\n", status, count);
  }
  std::printf("confirmed=%d out_of_stock_rejections=%d unsold_at_end=%lld\n", confirmed,
              out_of_stock, available);
  std::printf("accepted->outcome p50_ms=%.0f p99_ms=%.0f\n", bench::percentile(latencies, 0.5),
              bench::percentile(latencies, 0.99));
  std::printf("good_card_timeouts=%d unsold_while_refused=%d invariant_violations=%d\n",
              good_card_timeouts, unsold_while_refused ? 1 : 0, broken);
  CHECK(settled);
}

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  return context.run();
}
