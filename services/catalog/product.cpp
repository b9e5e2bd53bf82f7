#include "product.hpp"

namespace bazaar::catalog {

std::string_view to_string(ProductStatus status) {
  return status == ProductStatus::deleted ? "DELETED" : "ACTIVE";
}

std::optional<ProductStatus> parse_status(std::string_view text) {
  if (text == "ACTIVE") return ProductStatus::active;
  if (text == "DELETED") return ProductStatus::deleted;
  return std::nullopt;
}

ProductOwnership ownership_of(const Product& p) {
  return {p.seller_id, p.status == ProductStatus::deleted};
}

contracts::catalog::ProductCreatedV1 created_payload(const Product& p, std::int64_t initial_stock) {
  return {.product_id = p.product_id,
          .seller_id = p.seller_id,
          .name = p.name,
          .description = p.description,
          .price = p.price,
          .currency = p.currency,
          .category = p.category,
          .initial_stock = initial_stock,
          .created_at = p.created_at};
}

contracts::catalog::ProductUpdatedV1 updated_payload(const Product& p) {
  return {.product_id = p.product_id,
          .seller_id = p.seller_id,
          .name = p.name,
          .description = p.description,
          .price = p.price,
          .currency = p.currency,
          .category = p.category,
          .updated_at = p.updated_at};
}

contracts::catalog::ProductDeletedV1 deleted_payload(const Product& p,
                                                     const std::string& deleted_at) {
  return {.product_id = p.product_id, .seller_id = p.seller_id, .deleted_at = deleted_at};
}

contracts::catalog::ProductCommandRejectedV1 rejected_payload(std::string_view product_id,
                                                              std::string_view command,
                                                              const Rejection& rejection,
                                                              std::string_view actor_id) {
  contracts::catalog::ProductCommandRejectedV1 out;
  out.product_id = product_id;
  out.command = command;
  out.reason = to_string(rejection.reason);
  out.detail = rejection.detail;
  if (!actor_id.empty()) out.actor_id = std::string(actor_id);
  return out;
}

}  // namespace bazaar::catalog
