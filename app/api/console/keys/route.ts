export { listKeys as GET, createKey as POST } from "@/lib/control-plane/console/keys";
