export { getBatches as GET } from "@/lib/control-plane/console/batches";
