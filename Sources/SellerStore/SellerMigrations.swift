import GRDB

/// Schema of a seller's database.
///
/// **A migration is never edited once it has shipped**: thousands of seller files of different
/// ages upgrade by running the migrations they have not seen yet, in order. Change the schema
/// by appending a new, newly named migration. Migrations use raw SQL and column names, never
/// app types, so they keep meaning the same thing when the types evolve.
enum SellerMigrations {
    /// The first migration: store identity. Used by tests that build an "old" database.
    static let first = "2026-11-29-store-meta"

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration(first) { db in
            try db.execute(sql: """
                CREATE TABLE store_meta (
                    key TEXT PRIMARY KEY NOT NULL,
                    value TEXT NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("2026-11-29-seller-data") { db in
            // Every data table has a capture day column (ISO `YYYY-MM-DD`, weekStart for SQP)
            // with its own index, so the 90-day purge is one indexed DELETE per table.
            try db.execute(sql: """
                CREATE TABLE listing_snapshot (
                    day TEXT NOT NULL, marketplaceID TEXT NOT NULL, sku TEXT NOT NULL, asin TEXT NOT NULL,
                    title TEXT NOT NULL, bullets TEXT NOT NULL, description TEXT NOT NULL,
                    backendKeywords TEXT NOT NULL, brand TEXT NOT NULL, productType TEXT NOT NULL,
                    status TEXT NOT NULL, issues TEXT NOT NULL, price REAL, quantity INTEGER,
                    fulfillmentChannel TEXT NOT NULL,
                    PRIMARY KEY (day, marketplaceID, sku)
                );
                CREATE INDEX listing_snapshot_day ON listing_snapshot(day);
                CREATE INDEX listing_snapshot_sku ON listing_snapshot(sku, day);

                CREATE TABLE offer_snapshot (
                    day TEXT NOT NULL, marketplaceID TEXT NOT NULL, asin TEXT NOT NULL, sku TEXT NOT NULL,
                    currency TEXT NOT NULL, ownPrice REAL, ownShipping REAL NOT NULL, ownIsFBA INTEGER NOT NULL,
                    buyBoxWon INTEGER NOT NULL, buyBoxPrice REAL, buyBoxSellerID TEXT, competitors TEXT NOT NULL,
                    featuredOfferExpectedPrice REAL, competitivePrice REAL, totalOfferCount INTEGER NOT NULL,
                    PRIMARY KEY (day, marketplaceID, asin, sku)
                );
                CREATE INDEX offer_snapshot_day ON offer_snapshot(day);
                CREATE INDEX offer_snapshot_asin ON offer_snapshot(asin, day);

                CREATE TABLE sales_traffic (
                    day TEXT NOT NULL, marketplaceID TEXT NOT NULL, asin TEXT NOT NULL,
                    sessions INTEGER NOT NULL, pageViews INTEGER NOT NULL, buyBoxPercentage REAL NOT NULL,
                    unitSessionPercentage REAL NOT NULL, unitsOrdered INTEGER NOT NULL,
                    orderedProductSales REAL NOT NULL,
                    PRIMARY KEY (day, marketplaceID, asin)
                );
                CREATE INDEX sales_traffic_day ON sales_traffic(day);

                CREATE TABLE search_query (
                    weekStart TEXT NOT NULL, weekEnd TEXT NOT NULL, marketplaceID TEXT NOT NULL,
                    asin TEXT NOT NULL, query TEXT NOT NULL, queryScore INTEGER NOT NULL,
                    queryVolume INTEGER NOT NULL, totalImpressions INTEGER NOT NULL,
                    asinImpressions INTEGER NOT NULL, impressionShare REAL NOT NULL,
                    totalClicks INTEGER NOT NULL, asinClicks INTEGER NOT NULL, clickShare REAL NOT NULL,
                    totalCartAdds INTEGER NOT NULL, asinCartAdds INTEGER NOT NULL, cartAddShare REAL NOT NULL,
                    totalPurchases INTEGER NOT NULL, asinPurchases INTEGER NOT NULL, purchaseShare REAL NOT NULL,
                    PRIMARY KEY (weekStart, marketplaceID, asin, query)
                );
                CREATE INDEX search_query_day ON search_query(weekStart);

                CREATE TABLE ad_campaign (
                    day TEXT NOT NULL, campaignID TEXT NOT NULL, name TEXT NOT NULL, state TEXT NOT NULL,
                    targetingType TEXT NOT NULL, dailyBudget REAL NOT NULL,
                    PRIMARY KEY (day, campaignID)
                );
                CREATE INDEX ad_campaign_day ON ad_campaign(day);

                CREATE TABLE ad_group (
                    day TEXT NOT NULL, adGroupID TEXT NOT NULL, campaignID TEXT NOT NULL, name TEXT NOT NULL,
                    state TEXT NOT NULL, defaultBid REAL NOT NULL,
                    PRIMARY KEY (day, adGroupID)
                );
                CREATE INDEX ad_group_day ON ad_group(day);

                CREATE TABLE ad_target (
                    day TEXT NOT NULL, targetID TEXT NOT NULL, adGroupID TEXT NOT NULL, campaignID TEXT NOT NULL,
                    kind TEXT NOT NULL, text TEXT NOT NULL, matchType TEXT NOT NULL, state TEXT NOT NULL, bid REAL,
                    PRIMARY KEY (day, targetID)
                );
                CREATE INDEX ad_target_day ON ad_target(day);

                CREATE TABLE ad_metric (
                    day TEXT NOT NULL, campaignID TEXT NOT NULL, adGroupID TEXT NOT NULL, targetID TEXT NOT NULL,
                    impressions INTEGER NOT NULL, clicks INTEGER NOT NULL, cost REAL NOT NULL,
                    purchases INTEGER NOT NULL, sales REAL NOT NULL,
                    PRIMARY KEY (day, campaignID, adGroupID, targetID)
                );
                CREATE INDEX ad_metric_day ON ad_metric(day);

                CREATE TABLE search_term (
                    day TEXT NOT NULL, campaignID TEXT NOT NULL, adGroupID TEXT NOT NULL, targetID TEXT NOT NULL,
                    searchTerm TEXT NOT NULL, matchType TEXT NOT NULL, impressions INTEGER NOT NULL,
                    clicks INTEGER NOT NULL, cost REAL NOT NULL, purchases INTEGER NOT NULL, sales REAL NOT NULL,
                    PRIMARY KEY (day, campaignID, adGroupID, targetID, searchTerm, matchType)
                );
                CREATE INDEX search_term_day ON search_term(day);

                CREATE TABLE recommendation (
                    id TEXT PRIMARY KEY NOT NULL, day TEXT NOT NULL, ruleID TEXT NOT NULL, category TEXT NOT NULL,
                    asin TEXT NOT NULL, sku TEXT NOT NULL, subject TEXT NOT NULL, severity TEXT NOT NULL,
                    summary TEXT NOT NULL, action TEXT NOT NULL, evidence TEXT NOT NULL,
                    confidence REAL NOT NULL, expectedImpact TEXT NOT NULL
                );
                CREATE INDEX recommendation_day ON recommendation(day);

                CREATE TABLE alert (
                    id TEXT PRIMARY KEY NOT NULL, day TEXT NOT NULL, kind TEXT NOT NULL, severity TEXT NOT NULL,
                    asin TEXT NOT NULL, sku TEXT NOT NULL, summary TEXT NOT NULL, diff TEXT NOT NULL,
                    evidence TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,
                    lastError TEXT NOT NULL
                );
                CREATE INDEX alert_day ON alert(day);
                CREATE INDEX alert_state ON alert(state, day);
                """)
        }
        migrator.registerMigration("2026-11-30-alert-delivery-log") { db in
            try db.execute(sql: """
                CREATE TABLE alert_delivery (
                    id TEXT PRIMARY KEY NOT NULL, day TEXT NOT NULL, digestID TEXT NOT NULL, channel TEXT NOT NULL,
                    endpoint TEXT NOT NULL, attemptedAt TEXT NOT NULL, alertIDs TEXT NOT NULL, delivered INTEGER NOT NULL,
                    status INTEGER, error TEXT NOT NULL
                );
                CREATE INDEX alert_delivery_day ON alert_delivery(day);
                CREATE INDEX alert_delivery_digest ON alert_delivery(digestID, channel);
                """)
        }
        return migrator
    }
}
