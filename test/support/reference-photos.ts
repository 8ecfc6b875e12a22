/**
 * Real photos shipped in Debian packages (scikit-image's sample photos, Tux Paint's fruit and
 * vegetable photos; fetched by scripts/setup-sample-data.sh) with the ImageNet-1k classes a real
 * classifier gives them, for the model tests.
 */
import { join } from "node:path";

/** A reference photo and the acceptable ImageNet-1k class indices for it. */
export interface ReferencePhoto {
  file: string;
  classes: number[];
  what: string;
}

/** Where the set-up puts the photos under the cache root `cache`: scikit-image's and Tux Paint's food stamps. */
export function referencePhotoDirs(cache: string): { skimage: string; stamps: string } {
  return {
    skimage: join(cache, "data", "skimage"),
    stamps: join(cache, "downloads", "debian", "tuxpaint-stamps-food", "usr", "share", "tuxpaint", "stamps", "food"),
  };
}

/** The reference photos under the cache root `cache`. */
export function referencePhotos(cache: string): ReferencePhoto[] {
  const { skimage, stamps } = referencePhotoDirs(cache);
  return [
    { file: join(skimage, "chelsea.png"), classes: [281, 282, 285], what: "tabby / tiger cat / Egyptian cat" },
    { file: join(skimage, "coffee.png"), classes: [967, 968], what: "espresso / cup" },
    { file: join(skimage, "rocket.jpg"), classes: [657, 744, 812], what: "missile / projectile / space shuttle" },
    { file: join(skimage, "motorcycle_left.png"), classes: [665, 670], what: "moped / motor scooter" },
    { file: join(stamps, "fruit", "apple_granny_smith.png"), classes: [948], what: "Granny Smith" },
    { file: join(stamps, "fruit", "Strawberry2.png"), classes: [949], what: "strawberry" },
    { file: join(stamps, "fruit", "orange_seville.png"), classes: [950], what: "orange" },
    { file: join(stamps, "fruit", "lemon.png"), classes: [951], what: "lemon" },
    { file: join(stamps, "fruit", "pineapple.png"), classes: [953], what: "pineapple" },
    { file: join(stamps, "fruit", "banana.png"), classes: [954], what: "banana" },
    { file: join(stamps, "fruit", "pomegranate.png"), classes: [957], what: "pomegranate" },
    { file: join(stamps, "vegetables", "broccoli.png"), classes: [937], what: "broccoli" },
    { file: join(stamps, "vegetables", "yellowpepper.png"), classes: [945], what: "bell pepper" },
    { file: join(stamps, "vegetables", "corn.png"), classes: [987, 998], what: "corn / ear" },
  ];
}

/** The indices of the `k` largest logits, largest first. */
export function topK(logits: ArrayLike<number>, k: number): number[] {
  return [...Array.from(logits).keys()].sort((a, b) => (logits[b] as number) - (logits[a] as number)).slice(0, k);
}
