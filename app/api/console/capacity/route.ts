export { getCapacity as GET } from "@/lib/control-plane/capacity/console";
