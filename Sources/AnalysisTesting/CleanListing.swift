/// The content of a listing that breaks none of Amazon's rules the analyzer checks (title, bullets, backend
/// search terms, description), shared by the analysis tests: each test breaks exactly the thing it checks, so a
/// finding can only come from that change.
public enum CleanListing {
    /// 100 characters, no banned symbol, no word more than twice.
    public static let title = "Acme Stainless Steel Water Bottle 32 oz, Insulated Double Wall, Leak Proof Lid for Sports and Travel"
    public static let bullets = [
        "Double wall vacuum insulation keeps drinks cold for 24 hours and hot for 12 hours.",
        "Leak proof lid with a carry loop fits most car cup holders and backpack pockets.",
        "Food grade stainless steel body with a powder coated finish that resists sweat.",
        "Wide mouth opening takes ice cubes and makes cleaning easy; the lid goes in the dishwasher.",
        "Holds 32 ounces, weighs 14 ounces empty, and measures 3.6 by 11 inches.",
    ]
    /// Within 249 bytes, no word of the title or bullets repeated.
    public static let backend = "flask canteen thermos hydration jug gym hiking camping cycling school office"
    public static let description = "Stay hydrated all day with an insulated bottle built for the gym, the trail and the office.<br>Every bottle ships with a spare lid gasket."
}
